"""The probe schedule: due times, spreading, batching, changes, and a successor's resumption."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from models import changelog
from models.monitors.tables import Monitor
from scheduler.probes import ProbeSchedule, next_due, phase_of
from tests.factories.accounts import make_customer
from tests.factories.monitors import make_monitor
from tests.factories.organisations import first_team, make_service

START = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def service(settings):
    return make_service(first_team(make_customer(settings)))


class Recorder:
    def __init__(self):
        self.messages = []

    def __call__(self, region, due_epoch, checks):
        self.messages.append((region, due_epoch, checks))

    def checks(self):
        return [(region, due, monitor_id) for region, due, checks in self.messages
                for monitor_id, _ in checks]


def run(schedule_, seconds, start=START):
    for second in range(seconds + 1):
        schedule_.tick(now=start + dt.timedelta(seconds=second))


def test_a_monitor_is_due_every_interval_at_its_phase_in_each_region(service):
    monitor = make_monitor(service, regions=["eu", "us"], interval_seconds=60)
    recorder = Recorder()
    run(ProbeSchedule(recorder), 180)
    dues = sorted({due for _, due, _ in recorder.checks()})
    start = int(START.timestamp())        # the ticks cover start .. start + 180 s
    expected = [s for s in range(start, start + 181) if s % 60 == phase_of(monitor.id, 60)]
    assert dues == expected and len(dues) in (3, 4)      # four when the phase is 0
    assert Counter(region for region, _, _ in recorder.checks()) == {"eu": len(dues),
                                                                     "us": len(dues)}


@pytest.mark.parametrize("after, interval, phase, expected", [
    (100, 60, 0, 120), (120, 60, 0, 180), (100, 60, 30, 150), (0, 10, 3, 3), (3, 10, 3, 13)])
def test_next_due_is_strictly_after(after, interval, phase, expected):
    assert next_due(after, interval, phase) == expected


def test_monitors_of_one_interval_spread_over_it(service):
    now = START
    Monitor.insert_many([{"service": service, "name": f"m{n}", "type": "http", "url": "http://x/",
                          "regions": ["eu"], "interval_seconds": 60, "timeout_seconds": 5,
                          "created_at": now, "updated_at": now} for n in range(1200)]).execute()
    recorder = Recorder()
    run(ProbeSchedule(recorder, batch_size=500), 59)     # one interval: 60 seconds
    per_second = Counter(due for _, due, _ in recorder.checks())
    assert sum(per_second.values()) == 1200
    assert max(per_second.values()) <= 60      # about 20 a second, never all at once


def test_checks_due_together_are_split_into_batches(service):
    for _ in range(5):   # an interval of 1 s puts every monitor at phase 0: all due together
        make_monitor(service, regions=["eu"], interval_seconds=1)
    recorder = Recorder()
    ProbeSchedule(recorder, batch_size=2).tick(now=START)
    assert [len(checks) for _, _, checks in recorder.messages] == [2, 2, 1]


def test_a_disabled_or_deleted_monitor_stops_at_its_next_due_time(service):
    kept, disabled, deleted = (make_monitor(service, interval_seconds=10) for _ in range(3))
    recorder = Recorder()
    schedule_ = ProbeSchedule(recorder)
    run(schedule_, 10)
    (Monitor.update(enabled=False, version=Monitor.version + 1)    # as set_enabled does
     .where(Monitor.id == disabled.id).execute())
    Monitor.delete().where(Monitor.id == deleted.id).execute()
    for monitor in (disabled, deleted):
        changelog.record_change("monitor", monitor.id, now=START + dt.timedelta(seconds=10))
    recorder.messages.clear()
    run(schedule_, 30, start=START + dt.timedelta(seconds=11))
    assert {monitor_id for _, _, monitor_id in recorder.checks()} == {str(kept.id)}


def test_an_interval_change_takes_effect_without_a_restart(service):
    monitor = make_monitor(service, interval_seconds=60)
    recorder = Recorder()
    schedule_ = ProbeSchedule(recorder)
    run(schedule_, 5)
    Monitor.update(interval_seconds=10, version=Monitor.version + 1).execute()
    changelog.record_change("monitor", monitor.id, now=START + dt.timedelta(seconds=5))
    recorder.messages.clear()
    run(schedule_, 60, start=START + dt.timedelta(seconds=6))
    first, last = int(START.timestamp()) + 6, int(START.timestamp()) + 66
    expected = [due for due in range(first, last + 1) if due % 10 == phase_of(monitor.id, 10)]
    assert sorted(due for _, due, _ in recorder.checks()) == expected     # 6 or 7 by phase
    assert all(version == 2 for _, _, checks in recorder.messages for _, version in checks)


def test_a_successor_resumes_where_the_leader_stopped_with_no_gap_or_repeat(service):
    monitors = [make_monitor(service, regions=["eu", "us"], interval_seconds=10)
                for _ in range(7)]
    first, second = Recorder(), Recorder()
    run(ProbeSchedule(first), 45)                        # the leader, then it dies
    run(ProbeSchedule(second), 60, start=START + dt.timedelta(seconds=46))
    checks = first.checks() + second.checks()
    start, end = int(START.timestamp()) - 1, int(START.timestamp()) + 106
    expected = {(region, due, str(m.id)) for m in monitors for region in ("eu", "us")
                for due in range(start + 1, end + 1) if due % 10 == phase_of(m.id, 10)}
    assert len(checks) == len(set(checks))       # nothing twice
    assert set(checks) == expected               # nothing skipped


def test_a_long_pause_does_not_flood_the_queues_with_stale_checks(service):
    make_monitor(service, interval_seconds=10)
    recorder = Recorder()
    schedule_ = ProbeSchedule(recorder)
    schedule_.tick(now=START)
    recorder.messages.clear()
    later = ProbeSchedule(recorder)
    later.tick(now=START + dt.timedelta(hours=1))
    assert len(recorder.checks()) <= 6                  # one minute's worth at most


def test_checks_that_could_not_be_enqueued_are_enqueued_once_the_broker_is_back(service):
    monitors = [make_monitor(service, interval_seconds=10) for _ in range(5)]
    recorder, down = Recorder(), {"now": False}

    def enqueue(region, due_epoch, checks):
        if down["now"]:
            raise ConnectionError("Redis is restarting")
        recorder(region, due_epoch, checks)
    schedule_ = ProbeSchedule(enqueue)
    run(schedule_, 20)
    down["now"], failed = True, 0
    for second in range(21, 36):
        try:
            schedule_.tick(now=START + dt.timedelta(seconds=second))
        except ConnectionError:
            failed += 1
    assert failed                             # checks fell due while it was away
    down["now"] = False
    run(schedule_, 50)
    for monitor in monitors:
        dues = sorted({due for _, due, monitor_id in recorder.checks()
                       if monitor_id == str(monitor.id)})
        assert [b - a for a, b in zip(dues, dues[1:])] == [10] * (len(dues) - 1)
        assert len(dues) >= 4
