"""gunicorn's configuration for the API and the gateway (`gunicorn -c config/gunicorn.py ...`).

With `PROMETHEUS_MULTIPROC_DIR` set, each worker counts its metrics in files under that
directory and `/metrics` adds every worker's up. The master removes the files of an earlier
run as it starts (their counts would be added in), and when a worker exits its live gauges
are dropped (`mark_process_dead`); its counters stay, so totals never go back. Give the API and
the gateway a directory each. This file reads the variable itself, as prometheus_client does:
it runs in gunicorn's master, before any settings are loaded.
"""
import os
from pathlib import Path


def on_starting(server):
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        Path(path).mkdir(parents=True, exist_ok=True)
        for left in Path(path).glob("*.db"):     # prometheus_client's files, nothing else
            left.unlink(missing_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
