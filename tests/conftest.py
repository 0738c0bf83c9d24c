"""The test suite runs on one of two backends, chosen with `--backend` (or PINGHOME_TEST_BACKEND):

- `services`: real Postgres and Redis servers started on loopback for the session;
- `embedded`: an SQLite file and the in-process broker, as `pinghome up` runs by default.

A server that cannot start fails the run; nothing is skipped quietly. Every test starts from
empty tables (truncated after each test, since workers and subprocesses share the database).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import falcon.testing
import pytest

from models import db, ratelimit
from models.settings import Settings
from pinghome.localservers import Postgres, Redis
from pinghome.runtime import prepare
from tests.smtp_sink import SmtpSink
from workers.runner import start_worker

SECRET = "test-secret-key-that-is-long-enough-0123456789"


def pytest_addoption(parser):
    parser.addoption("--backend", choices=("embedded", "services"),
                     default=os.environ.get("PINGHOME_TEST_BACKEND", "embedded"),
                     help="run against SQLite + in-process broker, or Postgres + Redis")


def pytest_report_header(config):
    return f"pinghome backend: {config.getoption('--backend')}"


@pytest.fixture(scope="session")
def backend(request) -> str:
    return request.config.getoption("--backend")


@pytest.fixture(scope="session")
def servers(backend):
    """Database and Redis URLs of this session (Redis None on the embedded backend)."""
    if backend == "embedded":
        directory = Path(tempfile.mkdtemp(prefix="pinghome-test-"))
        yield {"database_url": f"sqlite:///{directory}/test.db", "redis_url": None,
               "postgres": None, "redis": None}
        return
    postgres, redis = Postgres().start(), Redis().start()
    yield {"database_url": postgres.url, "redis_url": redis.url, "postgres": postgres,
           "redis": redis}
    redis.destroy()
    postgres.destroy()


@pytest.fixture(scope="session")
def smtp_sink():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def settings(servers, smtp_sink, tmp_path_factory) -> Settings:
    return Settings(database_url=servers["database_url"], redis_url=servers["redis_url"],
                    smtp_url=smtp_sink.url, secret_key=SECRET, ntp_server=None,
                    data_dir=str(tmp_path_factory.mktemp("var")), log_level="WARNING",
                    allow_private_targets=True)


@pytest.fixture(scope="session")
def broker(settings):
    """The session's broker, with the schema migrated; the domain layer is configured."""
    broker = prepare(settings)
    db.migrate(settings.data_dir)
    return broker


@pytest.fixture(scope="session")
def worker(broker, settings):
    """A real Dramatiq worker consuming every queue of the session's broker."""
    running = start_worker(broker, settings, None)
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def clean_state(broker, worker, smtp_sink):
    """After each test: let the worker finish what the test enqueued, then empty everything."""
    yield
    drain(broker)
    db.truncate_all()
    ratelimit.reset()
    smtp_sink.clear()


def drain(broker, timeout_ms: int = 30_000) -> None:
    """Waits until every queue is empty and nothing is being processed."""
    for queue in sorted(broker.get_declared_queues()):
        if not queue.endswith(".DQ"):
            broker.join(queue, timeout=timeout_ms)


@pytest.fixture(scope="session")
def app(settings, broker):
    from api.app import create_app
    return create_app(settings)


@pytest.fixture
def client(app) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(app)
