"""Incidents assigned to on-call schedules, with the clock injected: an OCS schedule's tiers told
in order with the escalation delay, its loops, its defaults when nobody is on call; a team
schedule's members on call told as customers; every step in the incident's timeline."""
from __future__ import annotations

import datetime as dt

import pytest

from models.incidents.tables import IncidentEvent
from models.oncall.tables import TeamScheduleEntry
from tests.factories.oncall import T0, channel, entry, make_people, schedule
from tests.models.test_incident_notices import addresses, declare, move, run_due


@pytest.fixture
def people(settings):
    return make_people(settings)

def kinds(incident) -> list[str]:
    return [e.kind for e in IncidentEvent.select().where(IncidentEvent.incident == incident.id)
            .order_by(IncidentEvent.id)]


def test_tier_one_is_told_then_tier_two_when_unacknowledged(people, settings):
    owner, team, contacts = people
    ocs = schedule(team, [[contacts["Alice"]], [contacts["Bob"]]])
    incident = declare(owner, [{"type": "ocs", "id": ocs.id}])
    assert addresses(run_due(settings, 0)) == ["https://alice.example/"]
    assert addresses(run_due(settings, 4 * 60)) == ["https://alice.example/"]     # not yet
    assert addresses(run_due(settings, 5 * 60)) == ["https://alice.example/",
                                                    "https://bob.example/"]
    assert len(run_due(settings, 60 * 60)) == 2          # one loop: nothing after the last tier
    assert kinds(incident).count("escalation_planned") == 1
    notified = [e.message for e in IncidentEvent.select().where(
        IncidentEvent.incident == incident.id, IncidentEvent.kind == "notified")]
    assert any("on call in tier 2 of on-call schedule Primary" in m for m in notified)


def test_the_tiers_are_told_again_for_each_loop(people, settings):
    owner, team, contacts = people
    ocs = schedule(team, [[contacts["Alice"]], [contacts["Bob"]]], loops=2)
    declare(owner, [{"type": "ocs", "id": ocs.id}])
    for minutes in (0, 5, 10, 15, 20, 25):
        told = run_due(settings, minutes * 60)
    assert addresses(told) == ["https://alice.example/", "https://bob.example/",
                               "https://alice.example/", "https://bob.example/"]


def test_nobody_on_call_tells_the_default_email_and_phone(people, settings):
    owner, team, contacts = people
    ocs = schedule(team, [[], [contacts["Carol"]]], phone="+15005550006")
    incident = declare(owner, [{"type": "ocs", "id": ocs.id}])
    told = run_due(settings, 0)
    assert [(d.type, d.address) for d in told] == [("email", "ops@example.com"),
                                                   ("sms", "+15005550006")]
    assert addresses(run_due(settings, 5 * 60))[-1] == "https://carol.example/"
    messages = [e.message for e in IncidentEvent.select().where(
        IncidentEvent.incident == incident.id)]
    assert any(m.startswith("Nobody on call in tier 1") for m in messages)


def test_an_acknowledged_incident_goes_no_further_down_the_tiers(people, settings):
    owner, team, contacts = people
    ocs = schedule(team, [[contacts["Alice"]], [contacts["Bob"]]])
    incident = declare(owner, [{"type": "ocs", "id": ocs.id}])
    run_due(settings, 0)
    move(owner, incident, "acknowledged", 60)
    assert addresses(run_due(settings, 10 * 60)) == ["https://alice.example/"]
    assert "escalation_stopped" in kinds(incident)


def test_a_step_run_twice_tells_the_tier_once(people, settings):
    from models.incidents import notices
    from models.incidents.tables import IncidentStep
    owner, team, contacts = people
    ocs = schedule(team, [[contacts["Alice"]], [contacts["Bob"]]])
    declare(owner, [{"type": "ocs", "id": ocs.id}])
    run_due(settings, 0)
    step = IncidentStep.select().order_by(IncidentStep.id).first()
    IncidentStep.update(done_at=None).where(IncidentStep.id == step.id).execute()
    notices.run_steps([step.id], settings=settings, now=T0 + dt.timedelta(seconds=1))
    assert addresses(run_due(settings, 2)) == ["https://alice.example/"]


def test_a_team_schedule_tells_its_members_on_call_else_the_team(people, settings):
    owner, team, contacts = people
    channel("https://team.example/", team=team, priority=1)
    bob = contacts["Bob"].customer
    entry(team, bob)
    declare(owner, [{"type": "schedule", "id": str(team.id)}])
    assert addresses(run_due(settings, 0)) == ["https://bob.example/"]
    TeamScheduleEntry.delete().execute()
    declare(owner, [{"type": "schedule", "id": str(team.id)}])
    assert addresses(run_due(settings, 1))[-1] == "https://team.example/"


def test_a_team_assignee_also_tells_its_members_on_call(people, settings):
    owner, team, contacts = people
    channel("https://team.example/", team=team, priority=1)
    entry(team, contacts["Carol"].customer)
    declare(owner, [{"type": "team", "id": str(team.id)}])
    assert sorted(addresses(run_due(settings, 0))) == ["https://carol.example/",
                                                       "https://team.example/"]
