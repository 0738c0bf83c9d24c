"""Benchmark: the whole probe pipeline (scheduled -> probed -> stored -> state updated).

Starts Postgres, Redis and an nginx target on loopback, fills N http monitors, runs the real
`pinghome scheduler` and region workers as processes for a while, and reads back from Postgres
how many checks were recorded per second and how late they started. In the same run it measures
the bare loop: the same probe function, client and concurrency against the same target, with
no scheduler, broker or database. Run: .venv/bin/python bench/probes.py [--monitors N] ...
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import io
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rows import migrated_with_service  # noqa: E402
from pinghome.localservers import Postgres, Redis, free_port  # noqa: E402

SECRET = "bench-secret-key-0123456789-0123456789"


def main() -> None:
    options = parse_options()
    nginx = Nginx().start()
    postgres, redis = Postgres().start(), Redis().start()
    processes = []
    try:
        env = environment(postgres, redis, options)
        prepare_database(env, options, nginx.url)
        bare = bare_loop_rate(nginx.url, options)
        print(f"bare loop: {bare:,.0f} checks/s (probe_http_many, concurrency "
              f"{options.batch_size}, new connection per check)", flush=True)
        processes = start_pipeline(env, options)
        figures = measure(processes, options, env["DATABASE_URL"])
        report(figures, bare, options)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)
        redis.destroy()
        postgres.destroy()
        nginx.stop()


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--monitors", type=int, default=76_000)
    parser.add_argument("--interval", type=int, default=10, help="seconds between checks")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="Dramatiq threads per worker")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=40, help="seconds before measuring")
    parser.add_argument("--duration", type=int, default=60, help="seconds measured")
    parser.add_argument("--from-unknown", action="store_true",
                        help="start every monitor unknown (the first round then flips them "
                             "all to up) rather than up, as in a running system")
    return parser.parse_args()


class Nginx:
    """A fast target: nginx answering 200 with a small body, one worker process."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pinghome-nginx-"))
        self.url = f"http://127.0.0.1:{self.port}/health"

    def start(self) -> "Nginx":
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not os.path.exists(binary):
            sys.exit("nginx not found: install Debian's nginx-light (apt-get install nginx-light)")
        (self.dir / "nginx.conf").write_text(f"""
worker_processes 1; daemon off; pid {self.dir}/nginx.pid; error_log {self.dir}/error.log;
events {{ worker_connections 8192; }}
http {{ access_log off; client_body_temp_path {self.dir}; proxy_temp_path {self.dir};
  fastcgi_temp_path {self.dir}; uwsgi_temp_path {self.dir}; scgi_temp_path {self.dir};
  server {{ listen 127.0.0.1:{self.port} backlog=8192; location / {{ return 200 "ok\\n"; }} }} }}
""")
        self.process = subprocess.Popen([binary, "-c", str(self.dir / "nginx.conf")],
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import urllib.request
                urllib.request.urlopen(self.url, timeout=1).read()
                return self
            except OSError:
                time.sleep(0.05)
        sys.exit("nginx did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def environment(postgres, redis, options) -> dict:
    return {"PATH": os.environ["PATH"], "DATABASE_URL": postgres.url, "REDIS_URL": redis.url,
            "PINGHOME_SECRET_KEY": SECRET, "PINGHOME_REGIONS": "bench",
            "PINGHOME_ALLOW_PRIVATE_TARGETS": "true", "PINGHOME_NTP_SERVER": "off",
            "PINGHOME_PROBE_BATCH_SIZE": str(options.batch_size),
            "PINGHOME_WORKER_THREADS": str(options.threads), "PINGHOME_LOG_LEVEL": "WARNING",
            "PINGHOME_DATA_DIR": tempfile.mkdtemp(prefix="pinghome-bench-")}


def prepare_database(env, options, url) -> None:
    """Migrates and inserts the monitors directly (the API would take minutes for 100k)."""
    connection, service, now = migrated_with_service(env)
    with connection, connection.cursor() as cursor:
        status = "unknown" if options.from_unknown else "up"
        fixed = (f"http\t{url}\tGET\tf\tf\tf\t0\t0\t[\"bench\"]\t{options.interval}\t5\t"
                 f"t\t{status}\t1\t{now.isoformat()}\t{now.isoformat()}")
        ids = [uuid.uuid4() for _ in range(options.monitors)]
        rows = "".join(f"{id_}\t{service}\tm{n}\t{fixed}\n" for n, id_ in enumerate(ids))
        cursor.copy_from(io.StringIO(rows), "monitor", columns=(
            "id", "service_id", "name", "type", "url", "method", "skip_ssl_error",
            "not_follow_redirect", "is_advanced", "grace_period", "recovery_period", "regions",
            "interval_seconds", "timeout_seconds", "enabled", "status", "version", "created_at",
            "updated_at"))
        if not options.from_unknown:
            states = "".join(f"{uuid.uuid4()}\t{id_}\tbench\tup\t{now.isoformat()}\n"
                             for id_ in ids)
            cursor.copy_from(io.StringIO(states), "region_state", columns=(
                "id", "monitor_id", "region", "status", "changed_at"))
    connection.close()


def bare_loop_rate(url, options, seconds: float = 10) -> float:
    from workers.probes.http import HttpRequest, probe_http_many
    requests = [HttpRequest(url, allow_private=True, timeout=5)] * options.batch_size
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        results = probe_http_many(requests, concurrency=options.batch_size)
        done += sum(r.ok for r in results)
    return done / (time.perf_counter() - started)


def start_pipeline(env, options) -> list:
    command = [sys.executable, "-m", "pinghome"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    workers = [subprocess.Popen(command + ["worker", "--region", "bench"], env=env, **quiet)
               for _ in range(options.workers)]
    return workers + [subprocess.Popen(command + ["scheduler"], env=env, **quiet)]


def measure(processes, options, database_url: str) -> dict:
    import psycopg2
    time.sleep(options.warmup)
    cpu_before = cpu_seconds()
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rss = []
    deadline = time.monotonic() + options.duration
    while time.monotonic() < deadline:
        time.sleep(5)
        rss.append(sum(_rss_mib(p.pid) for p in processes[:-1]) / (len(processes) - 1))
    ended = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    cpu = {name: used - cpu_before.get(name, 0) for name, used in cpu_seconds().items()}
    connection = psycopg2.connect(database_url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE ok) FROM check_result "
                       "WHERE checked_at >= %s AND checked_at < %s", (started, ended))
        total, passed = cursor.fetchone()
        cursor.execute("SELECT extract(epoch FROM checked_at - due_at) * 1000 - "
                       "coalesce(response_ms, 0) FROM check_result "
                       "WHERE checked_at >= %s AND checked_at < %s", (started, ended))
        lags = sorted(row[0] / 1000 for row in cursor.fetchall())
    connection.close()
    seconds = (ended - started).total_seconds()
    return {"rate": total / seconds, "passed": passed, "total": total,
            "offered": options.monitors / options.interval,
            "lag_p50": _percentile(lags, 50), "lag_p99": _percentile(lags, 99),
            "rss": max(rss) if rss else 0.0,
            "cpu": {name: used / seconds for name, used in cpu.items()}}


def report(figures, bare, options) -> None:
    print(f"offered load: {figures['offered']:,.0f} checks/s ({options.monitors:,} monitors "
          f"every {options.interval} s); workers: {options.workers} x {options.threads} threads,"
          f" batches of {options.batch_size}")
    print(f"recorded: {figures['total']:,} checks ({figures['passed']:,} passed) in the "
          f"{options.duration} s window")
    print("CPU (cores) by program: " + ", ".join(
        f"{name} {cores:.2f}" for name, cores in sorted(figures["cpu"].items(), key=lambda c: -c[1])))
    print(f"scheduling lag (due -> probe start): p50 {figures['lag_p50']:.3f} s, "
          f"p99 {figures['lag_p99']:.3f} s")
    print(f"bench probes: {figures['rate']:,.0f} checks/s, {figures['rate'] / bare:.2f} x bare "
          f"loop, p99 lag {figures['lag_p99']:.2f} s, worker RSS {figures['rss']:.0f} MiB")


def cpu_seconds() -> dict:
    """CPU time used so far, by program, over every process of the machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        name = _program(command)
        used[name] = used.get(name, 0) + (int(fields[11]) + int(fields[12])) / ticks
    return used


def _program(command: list) -> str:
    words = [w.decode(errors="replace") for w in command if w]
    text = " ".join(words)
    for marker in ("pinghome worker", "pinghome scheduler", "postgres", "redis-server", "nginx"):
        if marker in text:
            return marker.replace("pinghome ", "")
    return "bench" if "bench/probes.py" in text else "other"


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _percentile(values, percent) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * percent / 100))]


if __name__ == "__main__":
    main()
