"""Recording outcomes: stored once, moving region and overall states by the rules."""
from __future__ import annotations

import pytest

from models import clock
from models.monitors import recording
from models.monitors.tables import Monitor, RegionState
from models.state_changes import StateChange
from models.results import CheckResult
from tests.factories.accounts import make_customer
from tests.factories.monitors import T0, make_monitor, outcome
from tests.factories.organisations import first_team, make_service
from tests.jobs import held_jobs


@pytest.fixture
def service(settings):
    return make_service(first_team(make_customer(settings)))


def record(monitor, region, *outcomes):
    monitor = Monitor.get_by_id(monitor.id)
    with held_jobs() as handed:
        recording.record(region, list(outcomes), {monitor.id: monitor}, now=clock.now())
    return handed


def status(monitor, region=None):
    if region:
        return RegionState.get(RegionState.monitor == monitor, RegionState.region == region).status
    return Monitor.get_by_id(monitor.id).status


def test_the_first_success_makes_a_monitor_up(service):
    monitor = make_monitor(service)
    record(monitor, "local", outcome(monitor, 0, True))
    assert status(monitor, "local") == status(monitor) == "up"


def test_a_failure_takes_it_down_at_once_without_grace_and_is_handed_over(service):
    monitor = make_monitor(service)
    record(monitor, "local", outcome(monitor, 0, True))
    handed = record(monitor, "local", outcome(monitor, 60, False, error="HTTP 503"))
    assert status(monitor) == "down"
    change = StateChange.get(StateChange.subject_id == monitor.id, StateChange.region.is_null(),
                             StateChange.to_status == "down")
    assert (change.from_status, change.cause, change.regions_down) == ("up", "HTTP 503", ["local"])
    assert handed == [("incidents.apply_rules", (str(change.id),))]


def test_a_failure_must_last_the_grace_period(service):
    monitor = make_monitor(service, grace_period=120)
    record(monitor, "local", outcome(monitor, 0, True))
    record(monitor, "local", outcome(monitor, 60, False), outcome(monitor, 120, False))
    assert status(monitor) == "up"
    record(monitor, "local", outcome(monitor, 180, False))
    assert status(monitor) == "down"


def test_a_success_during_the_grace_period_resets_it(service):
    monitor = make_monitor(service, grace_period=120)
    record(monitor, "local", outcome(monitor, 0, True), outcome(monitor, 60, False),
           outcome(monitor, 120, True), outcome(monitor, 180, False), outcome(monitor, 240, False))
    assert status(monitor) == "up"


def test_recovery_must_last_the_recovery_period(service):
    monitor = make_monitor(service, recovery_period=120)
    record(monitor, "local", outcome(monitor, 0, False))
    record(monitor, "local", outcome(monitor, 60, True), outcome(monitor, 120, True))
    assert status(monitor) == "down"
    record(monitor, "local", outcome(monitor, 180, True))
    assert status(monitor) == "up"


@pytest.mark.parametrize("failing, expected", [(0, "up"), (1, "up"), (2, "down"), (3, "down")])
def test_a_majority_of_regions_decides(service, failing, expected):
    regions = ["eu", "us", "ap"]
    monitor = make_monitor(service, regions=regions)
    for index, region in enumerate(regions):
        record(monitor, region, outcome(monitor, 0, index >= failing))
    assert status(monitor) == expected
    assert [status(monitor, r) for r in regions] == ["down"] * failing + ["up"] * (3 - failing)


def test_a_batch_recorded_twice_stores_and_moves_nothing_twice(service):
    monitor = make_monitor(service)
    batch = [outcome(monitor, 0, True), outcome(monitor, 60, False)]
    first = record(monitor, "local", *batch)
    second = record(monitor, "local", *batch)
    assert CheckResult.select().count() == 2
    assert StateChange.select().where(StateChange.region.is_null()).count() == 2
    [(job, (changes,))] = first             # one job for the batch's changes
    assert job == "incidents.apply_rules" and len(changes) == 2 and second == []
    # unknown->up, up->down; then nothing


def test_results_in_a_maintenance_window_move_no_state(service):
    # a window every hour from :00 for 10 minutes; T0 is 12:00
    monitor = make_monitor(service, maintenance_cron_expression="0 * * * *",
                           maintenance_duration=10)
    record(monitor, "local", outcome(monitor, -60, True))
    handed = record(monitor, "local", outcome(monitor, 60, False), outcome(monitor, 300, False))
    assert status(monitor) == "up" and handed == []
    assert CheckResult.select().where(CheckResult.in_maintenance == True).count() == 2  # noqa: E712
    record(monitor, "local", outcome(monitor, 660, False))   # 12:11, after the window
    assert status(monitor) == "down"


def test_an_older_result_does_not_undo_a_newer_change(service):
    monitor = make_monitor(service)
    record(monitor, "local", outcome(monitor, 0, True), outcome(monitor, 120, False))
    record(monitor, "local", outcome(monitor, 60, True))
    assert status(monitor) == "down"
