"""State changes reach the incident rules at least once: handed over after the recording
commits, handed over again by the scheduler when no rule run finished with them within a
minute, and applied once however often they are delivered."""
from __future__ import annotations

import datetime as dt

from models import incidents, state_changes
from models.state_changes import StateChange
from tests.factories.accounts import make_customer
from tests.factories.organisations import first_team, make_service
from tests.factories.monitors import make_monitor
from tests.jobs import held_jobs

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


def record_one(settings, trigger="t1", region=None):
    monitor = make_monitor(make_service(first_team(make_customer(settings))))
    with held_jobs() as handed:
        change_id = state_changes.record("monitor", monitor.id, from_status="up",
                                         to_status="down", cause="HTTP 500", at=T0,
                                         trigger=trigger, now=T0, region=region)
    return monitor, change_id, handed


def test_an_overall_change_is_handed_over_once_per_trigger(settings):
    monitor, change_id, handed = record_one(settings)
    assert handed == [("incidents.apply_rules", (str(change_id),))]
    with held_jobs() as again:
        assert state_changes.record("monitor", monitor.id, from_status="up", to_status="down",
                                    cause="HTTP 500", at=T0, trigger="t1", now=T0) is None
    assert again == [] and StateChange.select().count() == 1


def test_a_region_change_is_recorded_but_not_handed_over(settings):
    _, _, handed = record_one(settings, region="eu-central-1")
    assert handed == [] and StateChange.select().count() == 1


def test_a_change_no_rule_run_finished_with_is_handed_over_again_after_a_minute(settings):
    _, change_id, _ = record_one(settings)
    with held_jobs() as soon:
        assert incidents.hand_over_unapplied(now=T0 + dt.timedelta(seconds=30)) == 0
    with held_jobs() as later:
        assert incidents.hand_over_unapplied(now=T0 + dt.timedelta(seconds=61)) == 1
    assert soon == [] and later == [("incidents.apply_rules", (str(change_id),))]
    assert incidents.apply_rules(change_id, now=T0 + dt.timedelta(seconds=62))
    with held_jobs() as after:
        assert incidents.hand_over_unapplied(now=T0 + dt.timedelta(minutes=5)) == 0
    assert after == []


def test_the_same_apply_rules_message_delivered_twice_applies_once(settings, broker):
    from tests.conftest import drain
    _, change_id, _ = record_one(settings)
    for _ in range(2):
        broker.get_actor("incidents.apply_rules").send(str(change_id))
        drain(broker)
    applied = StateChange.get_by_id(change_id).rules_applied_at
    assert applied is not None
    assert not incidents.apply_rules(change_id, now=T0 + dt.timedelta(hours=1))
    assert StateChange.get_by_id(change_id).rules_applied_at == applied
