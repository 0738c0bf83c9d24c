"""Heartbeat state from signals and deadlines, with the clock injected."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from models.db import database
from models.heartbeats import ingest, overdue, reports
from models.heartbeats.signals import Signal
from models.heartbeats.tables import Heartbeat, HeartbeatEvent
from models.state_changes import StateChange
from tests.factories.accounts import make_customer
from tests.factories.organisations import first_team, make_service
from tests.jobs import held_jobs

T0 = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def service(settings):
    return make_service(first_team(make_customer(settings)))


def make_heartbeat(service, **fields) -> Heartbeat:
    columns = {"name": "Backup", "methods": ["GET", "POST", "HEAD"], "interval_seconds": 60,
               "grace_seconds": 30, **fields}
    return Heartbeat.create(service=service, created_at=T0, updated_at=T0, **columns)


def signal(heartbeat, seconds: float, result: str = "tick", message=None) -> Signal:
    return Signal(key=uuid.uuid4().hex, heartbeat_id=str(heartbeat.id), result=result,
                  received_at=T0 + dt.timedelta(seconds=seconds), method="GET", message=message)


def send(*signals):
    with held_jobs() as handed:
        ingest.store(list(signals), now=T0)
    return handed


def sweep(seconds: float):
    with held_jobs() as handed:
        overdue.mark_overdue(now=T0 + dt.timedelta(seconds=seconds))
    return handed


def current(heartbeat) -> Heartbeat:
    return Heartbeat.get_by_id(heartbeat.id)


def changes(heartbeat) -> list[tuple]:
    return [(c.from_status, c.to_status) for c in StateChange.select()
            .where(StateChange.subject_id == heartbeat.id)
            .order_by(StateChange.changed_at)]


def test_a_new_heartbeat_waits_for_its_first_signal(service):
    heartbeat = make_heartbeat(service)
    sweep(10 * 86400)
    assert current(heartbeat).status == "new" and changes(heartbeat) == []


def test_a_tick_brings_it_up_and_sets_the_deadline_at_interval_plus_grace(service):
    heartbeat = make_heartbeat(service)
    handed = send(signal(heartbeat, 0))
    found = current(heartbeat)
    assert (found.status, found.deadline_at) == ("up", T0 + dt.timedelta(seconds=90))
    change = StateChange.get(StateChange.subject_id == heartbeat.id)
    assert handed == [("incidents.apply_rules", (str(change.id),))]


def test_a_missing_signal_takes_it_down_at_interval_plus_grace_not_before(service):
    heartbeat = make_heartbeat(service)
    send(signal(heartbeat, 0))
    sweep(89.9)
    assert current(heartbeat).status == "up"
    handed = sweep(90)
    found = current(heartbeat)
    assert (found.status, found.deadline_at) == ("down", None)
    change = StateChange.get(StateChange.to_status == "down")
    assert change.changed_at == T0 + dt.timedelta(seconds=90) and "no signal since" in change.cause
    assert handed == [("incidents.apply_rules", (str(change.id),))]
    assert sweep(200) == [] and changes(heartbeat) == [("new", "up"), ("up", "down")]
    send(signal(heartbeat, 300))
    assert current(heartbeat).status == "up"


def test_a_signal_in_time_moves_the_deadline(service):
    heartbeat = make_heartbeat(service)
    send(signal(heartbeat, 0))
    send(signal(heartbeat, 80))
    sweep(100)
    assert current(heartbeat).status == "up"
    assert current(heartbeat).deadline_at == T0 + dt.timedelta(seconds=170)


def test_fail_takes_it_down_at_once_and_a_tick_brings_it_back(service):
    heartbeat = make_heartbeat(service)
    send(signal(heartbeat, 0), signal(heartbeat, 10, "fail", message="disk full"))
    found = current(heartbeat)
    assert found.status == "down"
    change = StateChange.get(StateChange.to_status == "down")
    assert "disk full" in change.cause
    send(signal(heartbeat, 20))
    assert current(heartbeat).status == "up"
    assert changes(heartbeat) == [("new", "up"), ("up", "down"), ("down", "up")]


def test_run_then_complete_measures_the_run(service):
    heartbeat = make_heartbeat(service, max_run_seconds=600)
    send(signal(heartbeat, 0, "run"), signal(heartbeat, 42.5, "complete"))
    durations = [e.duration_seconds for e in HeartbeatEvent.select().order_by(HeartbeatEvent.received_at)]
    assert durations == [None, 42.5]
    assert current(heartbeat).status == "up" and current(heartbeat).run_started_at is None


def test_a_run_past_its_limit_goes_down_at_the_limit(service):
    heartbeat = make_heartbeat(service, interval_seconds=3600, max_run_seconds=120)
    send(signal(heartbeat, 0), signal(heartbeat, 10, "run"))
    assert current(heartbeat).deadline_at == T0 + dt.timedelta(seconds=130)
    sweep(129)
    assert current(heartbeat).status == "up"
    sweep(130)
    change = StateChange.get(StateChange.to_status == "down")
    assert "did not complete within 120 s" in change.cause


def test_a_run_completed_late_is_down(service):
    heartbeat = make_heartbeat(service, interval_seconds=3600, max_run_seconds=120)
    send(signal(heartbeat, 0), signal(heartbeat, 10, "run"), signal(heartbeat, 200, "complete"))
    assert current(heartbeat).status == "down"
    assert "over its limit of 120 s" in StateChange.get(
        StateChange.to_status == "down").cause


def test_a_cron_schedule_keeps_local_time_across_a_dst_change(service):
    heartbeat = make_heartbeat(service, interval_seconds=None, schedule="0 9 * * *",
                               timezone="Europe/Amsterdam", grace_seconds=600)
    # Saturday 28 March 2026, 09:00 CET = 08:00Z; the clocks go forward that night
    at = dt.datetime(2026, 3, 28, 8, 0, 5, tzinfo=dt.timezone.utc)
    send(Signal(key="a" * 32, heartbeat_id=str(heartbeat.id), result="tick", received_at=at,
                method="GET"))
    # Sunday 09:00 CEST = 07:00Z, plus 10 minutes of grace
    assert current(heartbeat).deadline_at == dt.datetime(2026, 3, 29, 7, 10,
                                                         tzinfo=dt.timezone.utc)


def test_the_same_batch_stored_twice_counts_once(service):
    heartbeat = make_heartbeat(service)
    batch = [signal(heartbeat, 0), signal(heartbeat, 5, "fail")]
    send(*batch)
    send(*batch)
    assert HeartbeatEvent.select().count() == 2
    assert changes(heartbeat) == [("new", "up"), ("up", "down")]


def test_a_batch_partly_stored_before_stores_the_rest(service):
    heartbeat = make_heartbeat(service)
    first = signal(heartbeat, 0)
    send(first)
    with held_jobs():
        assert ingest.store([first, signal(heartbeat, 10)], now=T0) == 1
    assert HeartbeatEvent.select().count() == 2
    assert current(heartbeat).last_signal_at == T0 + dt.timedelta(seconds=10)


def test_signals_for_a_deleted_heartbeat_are_dropped(service):
    heartbeat = make_heartbeat(service)
    Heartbeat.delete().execute()
    assert ingest.store([signal(heartbeat, 0)], now=T0) == 0


def test_statistics_count_time_results_and_runs(service):
    heartbeat = make_heartbeat(service, max_run_seconds=600)
    send(signal(heartbeat, 0), signal(heartbeat, 60, "run"), signal(heartbeat, 70, "complete"),
         signal(heartbeat, 100, "fail"), signal(heartbeat, 160, "run"),
         signal(heartbeat, 190, "complete"))
    found = reports.statistics(current(heartbeat), interval="1h", start=T0,
                               end=T0 + dt.timedelta(seconds=400), now=T0 + dt.timedelta(hours=1))
    assert (found["up_seconds"], found["down_seconds"]) == (100 + 210, 90)
    assert found["uptime"] == pytest.approx(100 * 310 / 400)
    assert found["counts"] == {"tick": 1, "run": 2, "complete": 2, "fail": 1}
    assert found["runs"] == {"count": 2, "avg_seconds": 20.0, "p95_seconds": 30.0,
                             "max_seconds": 30.0}


def test_events_page_back_by_received_at(service):
    heartbeat = make_heartbeat(service)
    send(*[signal(heartbeat, n, message=f"m{n}") for n in range(5)])
    first = reports.events(heartbeat, limit=2)
    assert [e["message"] for e in first] == ["m4", "m3"]
    before = dt.datetime.fromisoformat(first[-1]["received_at"].replace("Z", "+00:00"))
    assert [e["message"] for e in reports.events(heartbeat, limit=10, before=before)] == [
        "m2", "m1", "m0"]


def test_a_stored_schedule_that_never_fires_again_takes_signals_and_never_goes_overdue(service):
    # stored before schedules were checked for an occurrence: no walk of it may raise
    heartbeat = make_heartbeat(service, schedule="0 0 30 2 *", interval_seconds=None)
    other = make_heartbeat(service)
    send(signal(heartbeat, 0), signal(other, 0))
    assert (current(heartbeat).status, current(heartbeat).deadline_at) == ("up", None)
    sweep(3600)
    assert current(heartbeat).status == "up" and current(other).status == "down"


def test_signals_leave_the_sweep_time_which_follows_the_deadline_when_the_sweep_reaches_it(
        service):
    heartbeat = make_heartbeat(service)                    # 60 s + 30 s grace
    send(signal(heartbeat, 0))
    assert current(heartbeat).sweep_at == T0 + dt.timedelta(seconds=90)
    send(signal(heartbeat, 50))                            # deadline 140 s: left at 90 s
    assert (current(heartbeat).deadline_at, current(heartbeat).sweep_at) == (
        T0 + dt.timedelta(seconds=140), T0 + dt.timedelta(seconds=90))
    sweep(100)                                             # reached; its deadline moved on
    assert (current(heartbeat).status, current(heartbeat).sweep_at) == (
        "up", T0 + dt.timedelta(seconds=140))
    sweep(139)
    assert current(heartbeat).status == "up"
    sweep(140)
    assert (current(heartbeat).status, current(heartbeat).sweep_at) == ("down", None)
    assert changes(heartbeat) == [("new", "up"), ("up", "down")]


def test_an_earlier_deadline_brings_the_sweep_time_forward(service):
    heartbeat = make_heartbeat(service, interval_seconds=3600, max_run_seconds=120)
    send(signal(heartbeat, 0))
    send(signal(heartbeat, 10, "run"))                     # must complete by 130 s
    assert current(heartbeat).sweep_at == T0 + dt.timedelta(seconds=130)
    sweep(130)
    assert current(heartbeat).status == "down"


def test_a_sweep_time_whose_deadline_went_is_cleared(service):
    heartbeat = make_heartbeat(service)
    send(signal(heartbeat, 0))
    send(signal(heartbeat, 10, "fail"))                    # down: no deadline
    assert (current(heartbeat).deadline_at, current(heartbeat).sweep_at) == (
        None, T0 + dt.timedelta(seconds=90))
    sweep(100)
    assert current(heartbeat).sweep_at is None and changes(heartbeat) == [
        ("new", "up"), ("up", "down")]


def test_on_postgres_a_tick_updates_the_row_in_place_touching_no_index(service, backend):
    if backend != "services":
        pytest.skip("Postgres's heap-only updates")
    heartbeats = [make_heartbeat(service) for _ in range(20)]
    send(*[signal(h, 0) for h in heartbeats])              # first deadlines: sweep times set
    counted = ("SELECT pg_stat_get_xact_tuples_updated('heartbeat'::regclass), "
               "pg_stat_get_xact_tuples_hot_updated('heartbeat'::regclass)")
    with database.atomic():               # the backend's counts: no flush inside a transaction
        updated, in_place = database.execute_sql(counted).fetchone()
        send(*[signal(h, 30) for h in heartbeats])
        updated_after, in_place_after = database.execute_sql(counted).fetchone()
    assert updated_after - updated == in_place_after - in_place == 20
