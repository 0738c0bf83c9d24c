"""The loop closed on real servers: a monitor's target turns bad, the monitor goes down, a
state-change ruleset opens an incident, mail and a webhook are delivered, the acknowledge link
stops the escalation, the target recovers and the incident is resolved and the resolution told.
The scheduler's probe loop runs in this process; the session's worker does the rest."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from models import clock
from models.channels import NotificationChannel
from models.incidents import announcements, rulesets
from models.incidents.tables import Incident, IncidentEvent
from models.monitors import operations as monitors
from scheduler.lock import leader_lock
from scheduler.loop import PeriodicTask, Scheduler
from scheduler.probes import ProbeSchedule
from scheduler.tasks import probe_enqueuer
from tests.conftest import drain
from tests.factories.accounts import make_customer
from tests.factories.organisations import caller_of, first_team, make_service
from tests.polling import wait_until


@pytest.fixture
def probing(settings, broker):
    stop = threading.Event()
    loop = Scheduler(leader_lock(settings), [PeriodicTask("probes", 0, ProbeSchedule(
        probe_enqueuer(broker)).tick)], tick_seconds=0.2)
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(10)


def verified(**fields) -> NotificationChannel:
    now = clock.now()
    return NotificationChannel.create(verified_at=now, created_at=now, updated_at=now, **fields)


def kinds(incident) -> list[str]:
    return [e.kind for e in IncidentEvent.select().where(IncidentEvent.incident == incident.id)
            .order_by(IncidentEvent.id)]


@pytest.mark.timeout(180)
def test_a_failing_target_alerts_is_acknowledged_by_link_and_resolves_when_it_recovers(
        settings, broker, client, target, smtp_sink, webhook_sink, probing):
    alice = caller_of(make_customer(settings))
    team = first_team(alice.customer)
    verified(customer=alice.customer, type="email", value="alice-pager@example.com", priority=1)
    verified(customer=alice.customer, type="webhook", value=f"{webhook_sink.url}/alice-phone",
             priority=2)
    verified(team=team, type="webhook", value=f"{webhook_sink.url}/team", priority=1)
    rulesets.create_ruleset(alice, {
        "rule_type": "state-change", "level": "team", "team_id": team.id, "name": "Site down",
        "urgency": "critical", "escalation_delay_minutes": 1,
        "assignees": [{"type": "team", "id": str(team.id)},
                      {"type": "customer", "id": str(alice.customer.id)}]}, now=clock.now())
    monitor = monitors.create_monitor(alice, {
        "service_id": make_service(team).id, "name": "Shop", "type": "http",
        "url": f"{target.url}/health", "interval": 10, "timeout": 2, "regions": ["local"]},
        settings=settings, now=clock.now())
    wait_until(lambda: monitors.Monitor.get_by_id(monitor.id).status == "up", timeout=30)

    target.answers["/health"] = (503, b"broken")
    [mail] = smtp_sink.wait_for("alice-pager@example.com", timeout=40)
    assert "Shop is down" in mail.subject and "HTTP 503" in mail.body
    [notice] = webhook_sink.wait_for("/team")
    assert notice.json()["type"] == "incident.opened"
    incident = Incident.get()
    assert (incident.status, incident.urgency, incident.subject_id) == \
        ("triggered", "critical", monitor.id)

    path = notice.json()["acknowledge_url"].split(settings.public_url, 1)[1]
    assert "Acknowledge" in client.simulate_get(path).text
    assert client.simulate_post(path).status_code == 200
    assert Incident.get_by_id(incident.id).status == "acknowledged"
    # the minute of the escalation delay passes: priority 2 is not told
    announcements.hand_over_due(now=clock.now() + dt.timedelta(minutes=2))
    drain(broker)
    assert webhook_sink.received("/alice-phone") == []
    assert "escalation_stopped" in kinds(incident)

    target.answers["/health"] = (200, b"fine")
    wait_until(lambda: Incident.get_by_id(incident.id).status == "resolved", timeout=40)
    resolved = [r for r in webhook_sink.wait_for("/team", count=2)][1]
    assert resolved.json()["type"] == "incident.resolved"
    smtp_sink.wait_for("alice-pager@example.com", count=2)
    steps = kinds(incident)
    for kind in ("opened", "notified", "delivered", "acknowledged", "escalation_stopped",
                 "resolved"):
        assert kind in steps, (kind, steps)
