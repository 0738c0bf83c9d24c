"""The probe pipeline as real processes on Postgres and Redis: a worker killed in the middle of
a batch loses no check and records none twice; a standby scheduler takes over from a killed
leader without enqueueing any check twice."""
from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest

from models import clock
from models.monitors.tables import Monitor
from models.state_changes import StateChange
from models.organisations import Organisation, Team
from models.results import CheckResult
from models.services import Service
from tests.http_sink import HttpSink
from tests.polling import wait_until
from tests.processes import add_service, own_stack, start

pytestmark = pytest.mark.own_servers
TABLES = [Organisation, Team, Service, Monitor, CheckResult, StateChange]


@pytest.fixture
def stack(tmp_path):
    with own_stack(tmp_path, TABLES, env={
            "PINGHOME_SECRET_KEY": "probe-process-test-secret-0123456789",
            "PINGHOME_REGIONS": "eu", "PINGHOME_ALLOW_PRIVATE_TARGETS": "true"}) as found:
        yield found


def add_monitors(url: str, count: int, interval: int, **fields) -> list:
    now = clock.now()
    service = add_service("Probes")
    return [Monitor.create(service=service, name=f"m{n}", type="http", url=url, regions=["eu"],
                           interval_seconds=interval, timeout_seconds=8, created_at=now,
                           updated_at=now, **fields) for n in range(count)]


def dues_by_monitor() -> dict:
    found: dict = {}
    for monitor_id, due_at in CheckResult.select(CheckResult.monitor, CheckResult.due_at).tuples():
        found.setdefault(uuid.UUID(str(monitor_id)), []).append(due_at)
    return found


def assert_every_slot_once(monitors, through: dt.datetime) -> None:
    """Each monitor has one result for each of its due times from its first to `through`."""
    results = dues_by_monitor()
    for monitor in monitors:
        dues = sorted(results.get(monitor.id, []))
        assert dues and len(dues) == len(set(dues)), monitor.id
        steps = {(b - a).total_seconds() for a, b in zip(dues, dues[1:])}
        assert steps == {monitor.interval_seconds}, (monitor.id, dues)     # no gap
        assert dues[-1] >= through - dt.timedelta(seconds=monitor.interval_seconds)


def test_a_worker_killed_in_the_middle_of_a_batch_loses_no_check(stack):
    target = HttpSink().start()
    target.delays["/slow"] = 3            # every check holds its batch in flight for 3 s
    try:
        monitors = add_monitors(f"{target.url}/slow", 30, interval=60)
        start(stack, "scheduler").wait_for_output("became leader")
        started = clock.now()           # slots after this are all scheduled
        victim = start(stack, "worker", "--region", "eu")
        wait_until(lambda: target.in_flight > 0, timeout=70)
        killed_at = clock.now()
        victim.kill()                     # mid-batch: its checks are unacknowledged
        start(stack, "worker", "--region", "eu")
        wait_until(lambda: len(dues_by_monitor()) == len(monitors), timeout=100,
                   message="the killed worker's checks were not run again")
        results = dues_by_monitor()
        for monitor in monitors:          # each monitor's first slot was recorded
            assert min(results[monitor.id]) <= started + dt.timedelta(seconds=61)
        early = [r for r in target.received("/slow")]
        assert len(early) > len(monitors)           # the interrupted checks ran again ...
        changes = Counter(c.subject_id for c in StateChange.select().where(
            StateChange.region.is_null()))
        assert set(changes.values()) == {1}         # ... and moved each state only once
        assert killed_at - started < dt.timedelta(seconds=70)
    finally:
        target.released.set()
        target.stop()


def test_a_standby_scheduler_takes_over_enqueueing_no_check_twice(stack):
    target = HttpSink().start()
    try:
        monitors = add_monitors(f"{target.url}/fast", 20, interval=10)
        start(stack, "worker", "--region", "eu")
        leader = start(stack, "scheduler")
        leader.wait_for_output("became leader")
        standby = start(stack, "scheduler")
        standby.wait_for_output("scheduler .* starting")
        wait_until(lambda: CheckResult.select().count() >= 2 * len(monitors), timeout=40)
        leader.kill()
        standby.wait_for_output("became leader", timeout=20)
        taken_over = clock.now()
        wait_until(lambda: clock.now() > taken_over + dt.timedelta(seconds=25), timeout=40)
        through = clock.now() - dt.timedelta(seconds=15)
        assert_every_slot_once(monitors, through)
        requests = len(target.received("/fast"))
        recorded = CheckResult.select().count()
        in_flight_margin = len(monitors)   # checks probed but not yet recorded at the count
        assert recorded <= requests <= recorded + in_flight_margin   # nothing probed twice
    finally:
        target.stop()
