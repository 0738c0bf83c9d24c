"""The test suite runs on one of two backends, chosen with `--backend` (or PINGHOME_TEST_BACKEND):

- `services`: real Postgres and Redis servers started on loopback for the session;
- `embedded`: an SQLite file and the in-process broker, as `pinghome up` runs by default.

A server that cannot start fails the run; nothing is skipped quietly. Every test starts from
empty tables (truncated after each test, since workers and subprocesses share the database).
"""
from __future__ import annotations

import functools
import os
import tempfile
import threading
from pathlib import Path

import argon2
import falcon.testing
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker

from models import accounts, db, ratelimit
from models.heartbeats import stream
from models.incidents import webhooks
from models.settings import Settings
from models.statuspages import public as statuspage_public
from pinghome.localservers import Postgres, Redis, free_port
from pinghome.runtime import prepare
from tests.http_sink import HttpSink
from tests.localstripe_server import LocalStripe
from tests.served import Served
from tests.smtp_sink import SmtpSink
from workers.broker import ping
from workers.runner import start_worker

SECRET = "test-secret-key-that-is-long-enough-0123456789"


def pytest_addoption(parser):
    parser.addoption("--backend", choices=("embedded", "services"),
                     default=os.environ.get("PINGHOME_TEST_BACKEND", "embedded"),
                     help="run against SQLite + in-process broker, or Postgres + Redis")


def pytest_report_header(config):
    return f"pinghome backend: {config.getoption('--backend')}"


def pytest_configure(config):
    config.addinivalue_line("markers", "own_servers: starts Postgres and Redis of its own, "
                                       "whatever the backend (run in the services pass only)")


def pytest_collection_modifyitems(config, items):
    """Tests that start servers of their own test the same thing on either backend: the
    embedded pass leaves them to the services pass rather than run them twice."""
    if config.getoption("--backend") != "embedded":
        return
    kept = [item for item in items if item.get_closest_marker("own_servers") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing():
    """Argon2 at its cheapest in the test process: at the real parameters a sign-up or a
    sign-in costs about 0.2 s here, and most tests sign in three people. The processes tests
    start hash as configured, and check these hashes all the same (a hash names its
    parameters)."""
    real = accounts._hasher
    accounts._hasher = argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST)
    yield
    accounts._hasher = real


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
def webhook_sink():
    """Receives webhooks (plain HTTP on loopback)."""
    sink = HttpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def target():
    """An HTTP server on loopback whose answers, delays and redirects a test sets."""
    sink = HttpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def tls_target(tmp_path):
    """The same over TLS, with a certificate for 127.0.0.1 from a test CA (`.ca_file`)."""
    sink = HttpSink(tls=True).start()
    sink.ca_file = str(tmp_path / "ca.pem")
    sink.ca.cert_pem.write_to_path(sink.ca_file)
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def twilio():
    """A fake SMS provider speaking Twilio's REST API."""
    sink = HttpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def statuspage():
    """A fake Atlassian Statuspage API: a created incident is answered with an id."""
    sink = HttpSink(answers={"/v1/pages/": (201, b'{"id": "sp-incident-1"}')}).start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def localstripe():
    """A fake Stripe API (localstripe) on loopback: its base URL, for `stripe.api_base`. Its
    state lasts the session, so tests create their own customers and plans under fresh ids."""
    server = LocalStripe().start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def chat_sink(tmp_path_factory):
    """Stands in for Slack, Discord, Teams and Telegram over TLS. Apprise's notifiers keep
    their own code and payloads; only the service hosts they post to point here, and the
    test CA is trusted through REQUESTS_CA_BUNDLE."""
    from apprise.plugins.discord import NotifyDiscord
    from apprise.plugins.slack import NotifySlack
    from apprise.plugins.telegram import NotifyTelegram
    sink = HttpSink(tls=True, answers={"/slack/": (200, b"ok")}).start()   # as Slack answers
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    sink.ca.cert_pem.write_to_path(str(bundle))
    patches = [(NotifySlack, "webhook_url", f"{sink.url}/slack/services"),
               (NotifyDiscord, "notify_url", f"{sink.url}/discord/api/webhooks"),
               (NotifyTelegram, "notify_url", f"{sink.url}/telegram/bot")]
    saved = [(cls, name, getattr(cls, name)) for cls, name, _ in patches]
    for cls, name, value in patches:
        setattr(cls, name, value)
    previous_bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    os.environ["REQUESTS_CA_BUNDLE"] = str(bundle)
    yield sink
    for cls, name, value in saved:
        setattr(cls, name, value)
    if previous_bundle is None:
        os.environ.pop("REQUESTS_CA_BUNDLE", None)
    else:
        os.environ["REQUESTS_CA_BUNDLE"] = previous_bundle
    sink.stop()


@pytest.fixture(scope="session")
def settings(servers, smtp_sink, twilio, statuspage, tmp_path_factory) -> Settings:
    return Settings(database_url=servers["database_url"], redis_url=servers["redis_url"],
                    smtp_url=smtp_sink.url, secret_key=SECRET, ntp_server=None,
                    data_dir=str(tmp_path_factory.mktemp("var")), log_level="WARNING",
                    allow_private_targets=True, public_url="http://pinghome.test",
                    regions=("local", "eu-central-1", "us-east-1"),
                    twilio_account_sid="AC0123456789", twilio_auth_token="twilio-token",
                    twilio_from="+15005550006", twilio_api_url=twilio.url,
                    statuspage_api_url=statuspage.url)


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
def clean_state(broker, worker, smtp_sink, webhook_sink, twilio, chat_sink, statuspage):
    """After each test: let the worker finish what the test enqueued, then empty everything."""
    yield
    drain(broker)
    db.truncate_all()
    ratelimit.reset()
    statuspage_public._domains.clear()    # as a new process would: no domain of a page gone
    if isinstance(broker, RedisBroker):      # signals and events a test left unstored
        for name in (stream.STREAM, webhooks.STREAM):
            broker.client.delete(name, f"{name}:unstorable", f"{name}:tries")
    for sink in (smtp_sink, webhook_sink, twilio, chat_sink, statuspage):
        sink.clear()


def drain(broker, timeout_ms: int = 30_000) -> None:
    """Waits until every queue is empty and nothing is being processed."""
    for queue in sorted(broker.get_declared_queues()):
        if not queue.endswith(".DQ"):
            broker.join(queue, timeout=timeout_ms)


@pytest.fixture
def gateway(settings, broker):
    """The gateway app served on loopback (its base URL); on Redis, flushers of the heartbeat
    signals and the webhook events run beside it as in `pinghome worker`."""
    from api.gateway import create_gateway
    from models.heartbeats import ingest
    from models.heartbeats.stream import SignalStream
    from models.incidents.events import store_events
    from models.incidents.webhooks import EventStream
    from workers.flusher import Flusher
    port = free_port()
    app = create_gateway(settings, broker_check=functools.partial(ping, broker))
    served = Served(app, port, threads=16, connection_limit=200)
    stop = threading.Event()
    if settings.redis_url:
        client = redis.Redis.from_url(settings.redis_url)
        for stream, store in [(SignalStream(client), ingest.store),
                              (EventStream(client), store_events)]:
            flusher = Flusher(stream, "test-flusher", store=store, block_ms=50)
            threading.Thread(target=flusher.run, args=(stop,), daemon=True).start()
    yield f"http://127.0.0.1:{port}"
    stop.set()
    served.close()


@pytest.fixture(scope="session")
def app(settings, broker):
    from api.app import create_app
    return create_app(settings, broker_check=functools.partial(ping, broker))


@pytest.fixture
def client(app) -> falcon.testing.TestClient:
    return falcon.testing.TestClient(app)
