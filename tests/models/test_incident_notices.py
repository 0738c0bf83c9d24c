"""An incident's notices with the clock injected: a team's channels at once, a customer's
channels in priority order with the escalation delay while unacknowledged, reminders while
open, the resolution told to everyone told; each step carried out once however often it runs."""
from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.channels import NotificationChannel
from models.incidents import announcements, lifecycle, notices
from models.incidents.tables import IncidentEvent, IncidentStep
from models.outbox import Delivery
from tests.factories.accounts import make_customer
from tests.factories.organisations import caller_of, first_team
from tests.factories.oncall import T0, channel
from tests.jobs import held_jobs



@pytest.fixture
def owner(settings):
    return caller_of(make_customer(settings))


_sent: list = []      # step jobs asked for outside `run_due` (due at once when planned)


def declare(owner, assignees, **fields):
    with held_jobs() as handed:
        incident = lifecycle.create_incident(owner, first_team(owner.customer).id, {
            "name": "Database down", "urgency": "critical", "assignees": assignees, **fields},
            now=T0)
    _sent.extend(handed)
    return incident


def move(owner, incident, status, seconds: float):
    with held_jobs() as handed:
        lifecycle.move(owner, incident.id, status, now=T0 + dt.timedelta(seconds=seconds))
    _sent.extend(handed)


def run_due(settings, seconds: float) -> list[Delivery]:
    """Runs the steps whose jobs were sent and those due `seconds` after T0, as the worker
    and the scheduler would; answers every incident notice queued so far."""
    now = T0 + dt.timedelta(seconds=seconds)
    with held_jobs() as handed:
        announcements.hand_over_due(now=now)
    jobs, _sent[:] = _sent + handed, []
    while jobs:
        name, args = jobs.pop(0)
        if name == announcements.RUN_STEP:
            with held_jobs() as more:
                ids = args[0] if isinstance(args[0], list) else [args[0]]
                notices.run_steps(ids, settings=settings, now=now)
            jobs += more
    return list(Delivery.select().where(Delivery.kind == notices.KIND)
                .order_by(Delivery.created_at))


def addresses(deliveries) -> list[str]:
    return [d.address for d in deliveries]


def test_a_team_is_told_over_every_channel_at_once(owner, settings):
    team = first_team(owner.customer)
    channel("https://hooks.example/a", team=team, priority=1)
    channel("https://hooks.example/b", team=team, priority=2)
    NotificationChannel.create(team=team, type="webhook", value="https://hooks.example/off",
                               priority=3, verified_at=None, created_at=T0, updated_at=T0)
    declare(owner, [{"type": "team", "id": str(team.id)}])
    assert addresses(run_due(settings, 0)) == ["https://hooks.example/a",
                                               "https://hooks.example/b"]


def test_escalation_reaches_priority_two_only_when_one_went_unacknowledged(owner, settings):
    me = owner.customer
    channel("https://me.example/first", customer=me, priority=1)
    channel("https://me.example/second", customer=me, priority=2)
    incident = declare(owner, [{"type": "customer", "id": str(me.id)}],
                       escalation_delay_minutes=None)
    assert addresses(run_due(settings, 0)) == ["https://me.example/first"]
    assert addresses(run_due(settings, 4 * 60)) == ["https://me.example/first"]  # not yet
    assert addresses(run_due(settings, 5 * 60)) == ["https://me.example/first",
                                                    "https://me.example/second"]
    # a second incident, acknowledged in time: priority two is never told
    other = declare(owner, [{"type": "customer", "id": str(me.id)}])
    run_due(settings, 6 * 60)
    move(owner, other, "acknowledged", 7 * 60)
    told = [d for d in run_due(settings, 12 * 60) if str(other.id) in d.key]
    assert addresses(told) == ["https://me.example/first"]
    steps = IncidentEvent.select().where(IncidentEvent.incident == other.id)
    assert "escalation_stopped" in [s.kind for s in steps]
    assert incident.id != other.id


def test_reminders_go_out_while_open_and_the_resolution_to_everyone_told(owner, settings):
    team = first_team(owner.customer)
    channel("https://hooks.example/team", team=team, priority=1)
    incident = declare(owner, [{"type": "team", "id": str(team.id)}], renotify_minutes=10)
    run_due(settings, 0)
    assert len(run_due(settings, 10 * 60)) == 2                      # the reminder
    move(owner, incident, "resolved", 15 * 60)
    sent = run_due(settings, 15 * 60)
    assert [d.subject.split(":")[0] for d in sent] == ["[critical] Incident",
                                                       "[critical] Still open",
                                                       "[critical] Resolved"]
    assert len(run_due(settings, 30 * 60)) == 3                      # no reminder once resolved


def test_a_customer_without_channels_is_told_at_their_sign_in_address(owner, settings):
    declare(owner, [{"type": "customer", "id": str(owner.customer.id)}])
    [delivery] = run_due(settings, 0)
    assert (delivery.type, delivery.address) == ("email", owner.customer.email)


def test_a_step_run_twice_sends_nothing_twice(owner, settings):
    team = first_team(owner.customer)
    channel("https://hooks.example/team", team=team, priority=1)
    declare(owner, [{"type": "team", "id": str(team.id)}])
    [step] = IncidentStep.select()
    for _ in range(2):
        with held_jobs():
            notices.run_step(step.id, settings=settings, now=clock.now())
    assert Delivery.select().where(Delivery.kind == notices.KIND).count() == 1
