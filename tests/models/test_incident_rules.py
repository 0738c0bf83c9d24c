"""The rules on real rows: a state change going down opens one incident per ruleset and
subject, coming back up resolves it; webhook events open, acknowledge and resolve incidents
as PagerDuty and Alertmanager payloads say; every run is safe to repeat."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from models import incidents, state_changes
from models.incidents import rulesets, subjects, webhooks
from models.incidents.tables import Incident, IncidentEvent
from models.incidents.events import store_events
from models.incidents.webhooks import Event, WebhookEvent
from tests.factories.accounts import make_customer
from tests.factories.monitors import make_monitor
from tests.factories.organisations import caller_of, first_team, make_service, make_team
from tests.jobs import held_jobs

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def owner(settings):
    return caller_of(make_customer(settings))


def ruleset(owner, team=None, **fields):
    team = team or first_team(owner.customer)
    body = {"rule_type": "state-change", "level": "team", "team_id": team.id, "name": "Down",
            "urgency": "high", "assignees": [{"type": "team", "id": str(team.id)}], **fields}
    return rulesets.create_ruleset(owner, body, now=T0)


def change(subject, to_status, seconds: float, subject_type="monitor"):
    with held_jobs():
        return state_changes.record(subject_type, subject.id,
                                    from_status="up" if to_status == "down" else "down",
                                    to_status=to_status, cause="HTTP 503" if to_status == "down"
                                    else None, at=T0 + dt.timedelta(seconds=seconds),
                                    trigger=f"t{seconds}", now=T0 + dt.timedelta(seconds=seconds))


def apply(change_id, seconds: float = 0):
    with held_jobs() as handed:
        incidents.apply_rules(change_id, now=T0 + dt.timedelta(seconds=seconds))
    return handed


def kinds(incident) -> list[str]:
    return [e.kind for e in IncidentEvent.select().where(IncidentEvent.incident == incident.id)
            .order_by(IncidentEvent.id)]


def test_a_monitor_going_down_opens_one_incident_and_coming_up_resolves_it(owner):
    rule = ruleset(owner)
    monitor = make_monitor(make_service(first_team(owner.customer)))
    down = change(monitor, "down", 0)
    assert apply(down) and apply(down) == []                 # a second run changes nothing
    [incident] = Incident.select()
    assert (incident.status, incident.ruleset_id, incident.state_change_id,
            incident.urgency) == ("triggered", rule.id, down, "high")
    assert incident.name == f"{monitor.name} is down" and incident.description == "HTTP 503"
    apply(change(monitor, "down", 30))                        # again, while open
    assert Incident.select().count() == 1 and kinds(incident) == ["opened", "matched"]
    apply(change(monitor, "up", 60))
    assert Incident.get_by_id(incident.id).status == "resolved"
    apply(change(monitor, "down", 90))                        # down again: a new incident
    assert Incident.select().where(Incident.status == "triggered").count() == 1
    assert Incident.select().count() == 2


def test_conditions_over_the_state_change_document_choose_what_opens(owner):
    ruleset(owner, conditions=[{"type": "json-check", "key": "subject.type",
                                "operator": "equal", "values": ["heartbeat"]}])
    monitor = make_monitor(make_service(first_team(owner.customer)))
    apply(change(monitor, "down", 0))
    assert Incident.select().count() == 0


def test_a_team_ruleset_covers_its_team_and_an_organisation_one_every_team(owner):
    other_team = make_team(owner.customer)
    ruleset(owner)
    elsewhere = make_monitor(make_service(other_team))
    apply(change(elsewhere, "down", 0))
    assert Incident.select().count() == 0
    ruleset(owner, level="organisation", team_id=None)
    apply(change(elsewhere, "down", 30))
    assert [i.team_id for i in Incident.select()] == [other_team.id]


def test_a_late_down_after_the_subject_came_back_opens_nothing(owner):
    ruleset(owner)
    monitor = make_monitor(make_service(first_team(owner.customer)))
    down, up = change(monitor, "down", 0), change(monitor, "up", 30)
    apply(up)
    apply(down)                  # handed over again by the sweep, after the recovery
    assert Incident.select().count() == 0


def test_a_batch_of_changes_opens_its_incidents_together_and_tells_them_in_one_job(owner):
    ruleset(owner)
    service = make_service(first_team(owner.customer))
    monitors = [make_monitor(service) for _ in range(20)]
    downs = [change(m, "down", n) for n, m in enumerate(monitors)]
    flapping = make_monitor(service)
    downs += [change(flapping, "down", 1), change(flapping, "up", 2)]   # back within the batch
    with held_jobs() as handed:
        assert incidents.apply_rules_many(downs, now=T0 + dt.timedelta(seconds=30)) == 22
    assert Incident.select().count() == 20 and not Incident.select().where(
        Incident.subject_id == flapping.id).exists()
    [(job, (steps,))] = handed                      # one job for all their first notices
    assert job == "escalations.run" and len(steps) == 20
    assert incidents.apply_rules_many(downs, now=T0 + dt.timedelta(seconds=31)) == 0
    assert all(kinds(i) == ["opened"] for i in Incident.select())


def test_a_change_that_fails_its_batch_holds_up_only_itself(owner, monkeypatch):
    ruleset(owner)
    service = make_service(first_team(owner.customer))
    good, poison = make_monitor(service), make_monitor(service, name="Poison")
    downs = [change(good, "down", 0), change(poison, "down", 0)]
    describe_many = subjects.describe_many

    def failing(pairs):
        described = describe_many(list(pairs))
        if any(d["name"] == "Poison" for d in described.values()):
            raise RuntimeError("poison")
        return described
    monkeypatch.setattr(subjects, "describe_many", failing)
    with held_jobs(), pytest.raises(RuntimeError):
        incidents.apply_rules_many(downs, now=T0)
    [incident] = Incident.select()
    assert incident.subject_id == good.id               # its batch-mate opened all the same


# -- webhooks ---------------------------------------------------------------------------------

def post(webhook, payload, seconds: float = 0) -> str:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    event = Event(key=uuid.uuid4().hex, webhook_id=str(webhook.id),
                  content_type="application/json", body=body, ip="127.0.0.1",
                  received_at=T0 + dt.timedelta(seconds=seconds))
    with held_jobs():
        store_events([event], now=T0)
    with held_jobs():
        incidents.match_event(event.key, now=T0 + dt.timedelta(seconds=seconds))
    return event.key


def webhook_ruleset(owner, **fields):
    webhook = webhooks.create_webhook(owner, name="Alerts", description=None, team_id=None,
                                      now=T0)
    return webhook, ruleset(owner, rule_type="webhook", **fields)


def test_a_matching_payload_opens_exactly_one_incident_and_one_that_does_not_opens_none(owner):
    webhook, _ = webhook_ruleset(owner, conditions=[
        {"type": "json-check", "key": "products[0].count", "operator": "equal",
         "values": ["10"]}])
    post(webhook, {"products": [{"count": 3}]})
    assert Incident.select().count() == 0
    key = post(webhook, {"products": [{"count": 10}], "title": "Stock low"})
    with held_jobs():
        assert not incidents.match_event(key, now=T0)       # delivered twice
    [incident] = Incident.select()
    assert (incident.name, incident.webhook_event_id, incident.source) == \
        ("Stock low", key, "webhook")
    post(webhook, "not json at all")
    assert Incident.select().count() == 1
    assert WebhookEvent.select().where(WebhookEvent.rules_applied_at.is_null()).count() == 0


def test_pagerduty_events_open_acknowledge_and_resolve_by_dedup_key(owner):
    webhook, _ = webhook_ruleset(owner)
    event = {"routing_key": "r", "dedup_key": "disk-full-db1",
             "payload": {"summary": "Disk full on db1", "source": "db1", "severity": "critical"}}
    post(webhook, {**event, "event_action": "trigger"})
    post(webhook, {**event, "event_action": "trigger"}, seconds=10)
    [incident] = Incident.select()
    assert (incident.name, incident.dedup_key) == ("Disk full on db1", "disk-full-db1")
    post(webhook, {**event, "event_action": "acknowledge"}, seconds=20)
    assert Incident.get_by_id(incident.id).status == "acknowledged"
    post(webhook, {**event, "event_action": "resolve"}, seconds=30)
    assert Incident.get_by_id(incident.id).status == "resolved"
    assert kinds(incident) == ["opened", "matched", "acknowledged", "resolved"]


def test_an_alertmanager_firing_then_resolved_pair_opens_and_resolves_one_incident(owner):
    webhook, _ = webhook_ruleset(owner, conditions=[
        {"type": "json-check", "key": "labels.severity", "operator": "equal",
         "values": ["page"]}])

    def alert(status, fingerprint="b7c8", severity="page"):
        return {"status": status, "fingerprint": fingerprint,
                "labels": {"alertname": "HighLatency", "severity": severity},
                "annotations": {"summary": "p99 over 1 s"}}

    group = {"version": "4", "receiver": "pinghome", "groupKey": "{}:{}"}
    post(webhook, {**group, "status": "firing",
                   "alerts": [alert("firing"), alert("firing", "aa11", severity="info")]})
    post(webhook, {**group, "status": "firing", "alerts": [alert("firing")]}, seconds=60)
    [incident] = Incident.select()
    assert (incident.name, incident.dedup_key) == ("HighLatency: p99 over 1 s", "b7c8")
    post(webhook, {**group, "status": "resolved", "alerts": [alert("resolved")]}, seconds=120)
    assert Incident.get_by_id(incident.id).status == "resolved"
    assert Incident.select().count() == 1


def test_a_ruleset_dedup_key_path_and_webhook_list_are_honoured(owner):
    webhook, rule = webhook_ruleset(owner, dedup_key="check.id")
    other = webhooks.create_webhook(owner, name="Other", description=None, team_id=None, now=T0)
    rulesets.update_ruleset(owner, rule.id, {"webhook_ids": [str(webhook.id)]}, now=T0)
    post(webhook, {"check": {"id": 7}})
    post(webhook, {"check": {"id": 7}}, seconds=5)
    post(webhook, {"check": {"id": 8}}, seconds=6)
    post(other, {"check": {"id": 9}}, seconds=7)
    assert sorted(i.dedup_key for i in Incident.select()) == ["7", "8"]


def test_without_a_dedup_key_every_match_opens_one(owner):
    webhook, _ = webhook_ruleset(owner)
    post(webhook, {"message": "one"})
    post(webhook, {"message": "two"}, seconds=1)
    assert Incident.select().count() == 2


def test_a_heartbeat_and_a_server_going_down_open_incidents_and_coming_up_resolve_them(owner):
    from models.heartbeats.tables import Heartbeat
    from models.servers.tables import Server
    ruleset(owner)
    service = make_service(first_team(owner.customer))
    heartbeat = Heartbeat.create(service=service, name="Backup", methods=["GET"],
                                 interval_seconds=60, grace_seconds=30, created_at=T0,
                                 updated_at=T0)
    server = Server.create(service=service, name="db1", token="t" * 32, created_at=T0,
                           updated_at=T0)
    apply(change(heartbeat, "down", 0, subject_type="heartbeat"))
    apply(change(server, "down", 0, subject_type="server"))
    assert sorted(i.subject_type for i in Incident.select()) == ["heartbeat", "server"]
    assert {i.name for i in Incident.select()} == {"Backup is down", "db1 is down"}
    apply(change(heartbeat, "up", 60, subject_type="heartbeat"))
    apply(change(server, "up", 60, subject_type="server"))
    assert {i.status for i in Incident.select()} == {"resolved"}


def test_an_event_no_ruleset_covers_is_applied_as_stored_and_costs_no_job(owner):
    heard = webhooks.create_webhook(owner, name="Heard", description=None, team_id=None, now=T0)
    unheard = webhooks.create_webhook(owner, name="Unheard", description=None, team_id=None,
                                      now=T0)
    ruleset(owner, rule_type="webhook", webhook_ids=[str(heard.id)])
    events = [Event(key=uuid.uuid4().hex, webhook_id=str(w.id), content_type=None, body="{}",
                    ip=None, received_at=T0) for w in (heard, unheard)]
    with held_jobs() as handed:
        store_events(events, now=T0)
    assert handed == [("incidents.match_event", (events[0].key,))]
    applied = {e.key: e.rules_applied_at for e in WebhookEvent.select()}
    assert applied == {events[0].key: None, events[1].key: T0}
