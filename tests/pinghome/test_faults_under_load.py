"""The distributed form under load, with faults: region workers SIGKILLed, Redis and Postgres
restarted. Afterwards every due check is recorded, every signal answered 200 is stored, every
answer during an outage was 200 or 503, and every process still serves."""
from __future__ import annotations

import datetime as dt
import math
import time
import uuid

import peewee
import pytest

from models import clock
from models.heartbeats.tables import Heartbeat, HeartbeatEvent
from models.monitors.tables import Monitor, RegionState
from models.state_changes import StateChange
from models.organisations import Organisation, Team
from models.results import CheckResult
from models.services import Service
from pinghome.localservers import free_port
from scheduler.probes import phase_of
from tests.http_sink import HttpSink
from tests.pinghome.load import SignalLoad
from tests.polling import wait_until
from tests.processes import add_heartbeat, add_service, call, own_stack, start, start_gateway

pytestmark = pytest.mark.own_servers
TABLES = [Organisation, Team, Service, Heartbeat, HeartbeatEvent, Monitor, CheckResult,
          StateChange, RegionState]
INTERVAL = 10


@pytest.fixture
def stack(tmp_path):
    with own_stack(tmp_path, TABLES, appendonly=True, env={
            "PINGHOME_SECRET_KEY": "fault-test-secret-key-0123456789abcdef",
            "PINGHOME_REGIONS": "eu", "PINGHOME_ALLOW_PRIVATE_TARGETS": "true"}) as found:
        yield found


def signal_writes_ok(port: int) -> bool:
    status, body = call("GET", f"http://127.0.0.1:{port}/v1/health-check")
    return status == 200 and body["checks"]["signal_writes"]["ok"]


def assert_every_acknowledged_signal_stored(answers) -> None:
    statuses = {answer.status for answer in answers}
    assert statuses <= {200, 503}, statuses            # never a 500, never no answer
    acknowledged = {answer.signal_id for answer in answers if answer.status == 200}

    def missing():
        stored = {key for (key,) in HeartbeatEvent.select(HeartbeatEvent.key).tuples()}
        return acknowledged - stored
    wait_until(lambda: not missing(), timeout=60,
               message="every signal answered 200 is stored")


@pytest.mark.timeout(300)
def test_the_gateway_writes_again_after_each_of_twenty_redis_restarts_under_load(stack):
    service = add_service()
    heartbeats = [add_heartbeat(service) for _ in range(20)]
    port = free_port()
    start_gateway(stack, port)
    start(stack, "worker")                             # its flusher stores the signals
    load = SignalLoad(port, [h.id for h in heartbeats], rate=200).start()
    server = stack["redis"]
    try:
        for _ in range(20):
            killed = time.monotonic()
            server.kill()
            wait_until(lambda: len(load.since(killed)) >= 100)   # about half a second away
            server.start()                                       # same port, same files
            recovered = time.monotonic() + 0.1
            wait_until(lambda: len(load.since(recovered)) >= 200)
            after = load.since(recovered)
            assert {answer.status for answer in after} == {200}, \
                sorted({answer.status for answer in after})
            assert signal_writes_ok(port)
    finally:
        answers = load.stop()
    assert sum(answer.status == 503 for answer in answers) > 0     # the outages were seen
    assert_every_acknowledged_signal_stored(answers)


def expected_dues(monitor, start: dt.datetime, end: dt.datetime) -> set:
    phase = phase_of(monitor.id, INTERVAL)
    return {second for second in range(math.ceil(start.timestamp()), int(end.timestamp()) + 1)
            if second % INTERVAL == phase}


def recorded_dues() -> dict:
    found: dict = {}
    for monitor_id, due_at in CheckResult.select(CheckResult.monitor, CheckResult.due_at).tuples():
        found.setdefault(uuid.UUID(str(monitor_id)), set()).add(int(due_at.timestamp()))
    return found


def results_counted() -> int | None:
    """How many check results are stored; None while the test's own connection to Postgres
    is being replaced (after a restart)."""
    try:
        return CheckResult.select().count()
    except peewee.DatabaseError:
        CheckResult._meta.database.close()
        return None


def add_monitor(service, url: str, **fields) -> Monitor:
    now = clock.now()
    return Monitor.create(service=service, name="m", type="http", url=url, regions=["eu"],
                          interval_seconds=INTERVAL, timeout_seconds=5, created_at=now,
                          updated_at=now, **fields)


@pytest.mark.timeout(600)
def test_the_system_under_load_survives_killed_workers_and_restarted_redis_and_postgres(stack):
    target = HttpSink().start()
    target.delays["/ok"] = 0.5           # batches stay in flight, so a kill catches some
    target.answers["/slowly-judged"] = (200, b"a" * 40 + b"b")
    try:
        service = add_service("Healthy")
        healthy = [add_monitor(service, f"{target.url}/ok") for _ in range(60)]
        # another tenant's monitor whose every check spends its budget on its patterns
        add_monitor(add_service("Greedy"), f"{target.url}/slowly-judged", conditions=[
            {"type": "body", "operator": "matches", "values": ["(a|aa)+$"] * 9 + ["b$"]}])
        heartbeats = [add_heartbeat(service) for _ in range(30)]
        scheduler = start(stack, "scheduler")
        worker = start(stack, "worker")
        region = [start(stack, "worker", "--region", "eu") for _ in range(2)]
        port = free_port()
        gateway = start_gateway(stack, port)
        scheduler.wait_for_output("became leader")
        load = SignalLoad(port, [h.id for h in heartbeats], rate=100).start()

        def a_round_later():
            count = wait_until(results_counted, timeout=30)
            wait_until(lambda: results_counted() >= count + len(healthy),
                       timeout=60, message="checks go on being recorded")

        wait_until(lambda: all(len(d) >= 2 for d in recorded_dues().values()) and
                   len(recorded_dues()) == len(healthy) + 1, timeout=60)
        steady = clock.now()
        a_round_later()
        a_round_later()
        began = clock.now()
        # before any fault: no check waited behind the greedy monitor's (an interval at most)
        waits = [(checked - due).total_seconds() for checked, due in CheckResult.select(
            CheckResult.checked_at, CheckResult.due_at).where(
            CheckResult.monitor.in_([m.id for m in healthy]), CheckResult.due_at >= steady,
            CheckResult.due_at <= began - dt.timedelta(seconds=INTERVAL)).tuples()]
        assert waits and max(waits) < INTERVAL, max(waits)
        for _ in range(5):
            wait_until(lambda: target.in_flight > 0, timeout=30)
            region.pop(0).kill()                                # mid-batch
            region.append(start(stack, "worker", "--region", "eu"))
            a_round_later()
        redis_killed = time.monotonic()
        stack["redis"].kill()
        wait_until(lambda: len(load.since(redis_killed)) >= 200)   # about two seconds away
        stack["redis"].start()
        a_round_later()
        postgres_stopped = time.monotonic()
        stack["postgres"].stop()
        wait_until(lambda: len(load.since(postgres_stopped)) >= 200)
        stack["postgres"].restart()
        a_round_later()
        window_end = clock.now()
        # redeliveries come after a dead worker's heartbeat times out (15 s), retries within
        # about half a minute: then every check due in the window is in
        wait_until(lambda: clock.now() > window_end + dt.timedelta(seconds=45), timeout=60)
        a_round_later()
        answers = load.stop()

        found = recorded_dues()
        for monitor in healthy:
            missing = expected_dues(monitor, began, window_end) - found.get(monitor.id, set())
            assert not missing, (monitor.id, sorted(missing))
        assert_every_acknowledged_signal_stored(answers)
        assert all(p.popen.poll() is None for p in [scheduler, worker, gateway, *region])
        assert signal_writes_ok(port)
    finally:
        target.released.set()
        target.stop()
