"""A monitor's Statuspage integration on a real worker against a fake Statuspage API: going
down opens one incident there, coming back resolves that one, and no redelivery or repeat
opens a second; a recovery that comes before Statuspage's answer waits for it."""
from __future__ import annotations

import pytest

from models import clock, integrations, outbox, state_changes
from models.incidents import rules
from models.outbox import Delivery
from tests.conftest import drain
from tests.factories.accounts import make_customer
from tests.factories.monitors import make_monitor
from tests.factories.organisations import caller_of, first_team, make_service
from tests.jobs import held_jobs
from workers import notifiers

KEY = "sp-secret-api-key-123"


@pytest.fixture
def monitor(settings):
    owner = caller_of(make_customer(settings))
    monitor = make_monitor(make_service(first_team(owner.customer)), name="Shop")
    integrations.create_integration(owner, monitor.id, {
        "type": "statuspageIo", "integration": "r276xxt51c23",
        "items": ["ggs24084vt79", "abc123"], "api_key": KEY}, settings=settings,
        now=clock.now())
    return monitor


def change(monitor, to_status, trigger):
    now = clock.now()
    return state_changes.record("monitor", monitor.id, from_status="up" if to_status == "down"
                                else "down", to_status=to_status, cause="HTTP 503", at=now,
                                trigger=trigger, now=now)


def test_down_opens_one_incident_with_the_components_and_up_resolves_it(
        broker, monitor, statuspage):
    change(monitor, "down", "t1")
    drain(broker)
    [created] = statuspage.received("/v1/pages/")
    assert (created.method, created.route) == ("POST", "/v1/pages/r276xxt51c23/incidents")
    assert created.headers["authorization"] == f"OAuth {KEY}"
    incident = created.json()["incident"]
    assert (incident["name"], incident["status"]) == ("Shop is down", "investigating")
    assert incident["component_ids"] == ["ggs24084vt79", "abc123"]
    assert incident["components"] == {"ggs24084vt79": "major_outage", "abc123": "major_outage"}

    change(monitor, "up", "t2")
    drain(broker)
    created, resolved = statuspage.received("/v1/pages/")
    assert (resolved.method, resolved.route) == (
        "PATCH", "/v1/pages/r276xxt51c23/incidents/sp-incident-1")
    assert resolved.json()["incident"]["status"] == "resolved"
    assert resolved.json()["incident"]["components"] == {"ggs24084vt79": "operational",
                                                         "abc123": "operational"}


def test_the_same_state_change_delivered_twice_opens_one_incident(broker, monitor, statuspage):
    change_id = change(monitor, "down", "t1")
    drain(broker)
    opening = Delivery.get(Delivery.kind == integrations.OPEN)
    for _ in range(2):
        broker.get_actor("incidents.apply_rules").send(str(change_id))
        broker.get_actor("notifications.deliver").send(str(opening.id))
    assert rules.apply_to_change(change_id, now=clock.now()) is False
    integrations.on_state_change([state_changes.StateChange.get_by_id(change_id)],
                                  now=clock.now())
    drain(broker)
    assert change(monitor, "down", "t1") is None          # the same trigger records nothing
    drain(broker)
    assert len(statuspage.received("/v1/pages/")) == 1
    assert integrations.IntegrationIncident.select().count() == 1


def test_a_second_down_while_one_is_open_opens_nothing(broker, monitor, statuspage):
    change(monitor, "down", "t1")
    drain(broker)
    integrations.on_state_change([state_changes.StateChange.get()], now=clock.now())
    drain(broker)
    assert len(statuspage.received("/v1/pages/")) == 1


def test_a_recovery_before_the_create_is_answered_waits_for_the_answer(
        broker, settings, monitor, statuspage):
    with held_jobs() as held:
        down = change(monitor, "down", "t1")
        rules.apply_to_change(down, now=clock.now())
        up = change(monitor, "up", "t2")
        rules.apply_to_change(up, now=clock.now())
        assert not Delivery.select().where(Delivery.kind == integrations.RESOLVE).exists()
        opening = Delivery.get(Delivery.kind == integrations.OPEN)
        assert outbox.deliver(str(opening.id), settings=settings, now=clock.now(),
                              transport=lambda m: notifiers.send(m, settings=settings)) == "sent"
        resolve = Delivery.get(Delivery.kind == integrations.RESOLVE)
    assert ("notifications.deliver", (str(resolve.id),)) in held
    for actor, args in held:
        broker.get_actor(actor).send(*args)
    drain(broker)
    requests = statuspage.received("/v1/pages/")
    assert [r.method for r in requests] == ["POST", "PATCH"]
    assert requests[1].route.endswith("/incidents/sp-incident-1")


def test_a_refused_create_is_not_resolved(broker, monitor, statuspage):
    statuspage.answers["/v1/pages/"] = (401, b'{"error": "bad key"}')
    change(monitor, "down", "t1")
    drain(broker)
    change(monitor, "up", "t2")
    drain(broker)
    assert [r.method for r in statuspage.received("/v1/pages/")] == ["POST"]
    assert integrations.IntegrationIncident.get().failed is True


def test_the_api_key_is_kept_sealed(monitor):
    row = integrations.MonitorIntegration.get()
    assert KEY not in row.sealed_api_key
