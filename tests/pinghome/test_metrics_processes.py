"""Metrics under gunicorn as the Procfile runs the gateway (gevent workers, config/gunicorn.py,
`PROMETHEUS_MULTIPROC_DIR`): a scrape adds up every worker's counts, also those of workers
that have exited since."""
from __future__ import annotations

import signal
import urllib.request

import psutil

from models import clock
from models.heartbeats.tables import Heartbeat
from pinghome.localservers import free_port
from tests.api.test_metrics import samples, value
from tests.factories.accounts import make_customer
from tests.factories.organisations import first_team, make_service
from tests.polling import wait_until
from tests.processes import Process, wait_http

SIGNALS = 30


def environment(settings, tmp_path) -> dict:
    env = {"DATABASE_URL": settings.database_url, "PINGHOME_SECRET_KEY": settings.secret_key,
           "PINGHOME_NTP_SERVER": "off", "PINGHOME_DATA_DIR": str(tmp_path / "var"),
           "PINGHOME_REGIONS": ",".join(settings.regions),
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    return {**env, "REDIS_URL": settings.redis_url} if settings.redis_url else env


def workers_of(master: Process) -> set[int]:
    return {child.pid for child in psutil.Process(master.popen.pid).children()}


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.read().decode()


def test_a_scrape_adds_up_every_gateway_worker_even_those_that_have_exited(settings,
                                                                           tmp_path):
    now = clock.now()
    heartbeat = Heartbeat.create(service=make_service(first_team(make_customer(settings))),
                                 name="Backup", methods=["GET"], interval_seconds=60,
                                 grace_seconds=30, created_at=now, updated_at=now)
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_bytes(b"left by an earlier run")
    port = free_port()
    gateway = Process.gunicorn("pinghome.wsgi:gateway", port, env=environment(settings, tmp_path),
                               log_path=tmp_path / "gateway.log",
                               workers=("-c", "config/gunicorn.py", "--worker-class", "gevent"))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/v1/health-check")
        assert not (tmp_path / "metrics" / "counter_1.db").exists()
        for _ in range(SIGNALS):
            get(f"{base}/v1/heartbeat/{heartbeat.id}")
        first = workers_of(gateway)
        assert len(first) == 2
        # every worker that counted is replaced: the answer comes from processes that
        # counted nothing themselves
        for pid in first:
            psutil.Process(pid).send_signal(signal.SIGTERM)
        wait_until(lambda: len(workers_of(gateway)) == 2 and not workers_of(gateway) & first,
                   timeout=30)
        wait_http(f"{base}/v1/health-check")
        for _ in range(4):
            scraped = samples(get(f"{base}/metrics"))
            assert value(scraped, "pinghome_signals_total", kind="heartbeat") == SIGNALS
    finally:
        gateway.stop()
