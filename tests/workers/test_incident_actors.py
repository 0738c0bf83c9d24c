"""The incident jobs on a real worker: a webhook event and a notice step each delivered twice
act once; notices to one channel in a burst go out as one grouped message; the signed
acknowledge link's page acknowledges only when its button is pressed."""
from __future__ import annotations

import json
import re
import time
import uuid

import pytest

from models import clock, outbox
from models.channels import NotificationChannel
from models.incidents import lifecycle, notices, rulesets, webhooks
from models.incidents.tables import Incident, IncidentEvent, IncidentStep
from models.incidents.events import store_events
from models.incidents.webhooks import Event
from models.outbox import Delivery
from tests.conftest import drain
from tests.factories.accounts import make_customer
from tests.factories.organisations import caller_of, first_team
from tests.jobs import held_jobs
from tests.polling import wait_until


@pytest.fixture
def owner(settings):
    return caller_of(make_customer(settings))


def team_webhook_channel(owner, url: str) -> NotificationChannel:
    now = clock.now()
    return NotificationChannel.create(team=first_team(owner.customer), type="webhook",
                                      value=url, priority=1, verified_at=now, created_at=now,
                                      updated_at=now)


def declare(owner, name="Database down"):
    team = first_team(owner.customer)
    return lifecycle.create_incident(owner, team.id, {
        "name": name, "urgency": "high", "assignees": [{"type": "team", "id": str(team.id)}]},
        now=clock.now())


def test_the_same_webhook_event_delivered_twice_opens_one_incident(owner, broker):
    webhook = webhooks.create_webhook(owner, name="A", description=None, team_id=None,
                                      now=clock.now())
    team = first_team(owner.customer)
    rulesets.create_ruleset(owner, {"rule_type": "webhook", "level": "team", "team_id": team.id,
                                    "name": "All", "urgency": "low"}, now=clock.now())
    event = Event(key=uuid.uuid4().hex, webhook_id=str(webhook.id), content_type=None,
                  body=json.dumps({"dedup_key": "k"}), ip=None, received_at=clock.now())
    with held_jobs():
        store_events([event], now=clock.now())
    for _ in range(2):
        broker.get_actor("incidents.match_event").send(event.key)
    drain(broker)
    assert Incident.select().count() == 1


def test_the_same_notice_step_delivered_twice_sends_one_notice(owner, broker, webhook_sink):
    team_webhook_channel(owner, f"{webhook_sink.url}/team")
    with held_jobs():
        declare(owner)
    [step] = IncidentStep.select()
    for _ in range(2):
        broker.get_actor("escalations.run").send(step.id)
    drain(broker)
    [received] = webhook_sink.wait_for("/team")
    assert received.json()["type"] == "incident.opened"
    assert Delivery.select().where(Delivery.kind == "incident").count() == 1


def test_a_burst_of_incidents_reaches_a_channel_in_few_grouped_messages(owner, broker,
                                                                      webhook_sink):
    team_webhook_channel(owner, f"{webhook_sink.url}/burst")
    started = time.monotonic()
    for n in range(30):
        declare(owner, name=f"Service {n} down")
    windows = (time.monotonic() - started) / outbox.GROUPED["incident"].total_seconds()
    wait_until(lambda: Delivery.select().where(Delivery.kind == "incident",
                                               Delivery.status == "sent").count() == 30,
               timeout=60, message="every notice delivered")
    received = webhook_sink.received("/burst")
    told = [m for r in received for m in (r.json().get("messages") or [r.json()])]
    assert sorted(m["incident"]["name"] for m in told) == sorted(f"Service {n} down"
                                                                 for n in range(30))
    # the first at once, one queued while it was on its way (claimed rows do not wait), then
    # one per window the burst lasted (a slow machine spreads it)
    assert len(received) <= 3 + int(windows)


def test_the_acknowledge_link_page_acknowledges_only_when_its_button_is_pressed(
        owner, settings, client, webhook_sink):
    team_webhook_channel(owner, f"{webhook_sink.url}/ack")
    incident = declare(owner)
    [received] = webhook_sink.wait_for("/ack")
    link = received.json()["acknowledge_url"]
    path = link.split(settings.public_url, 1)[1]
    page = client.simulate_get(path)
    assert page.status_code == 200 and "<form method=\"post\"" in page.text
    assert Incident.get_by_id(incident.id).status == "triggered"     # looking changes nothing
    forged = re.sub(r"token=\w+", "token=" + "0" * 64, path)
    assert client.simulate_post(forged).status_code == 404
    done = client.simulate_post(path)
    assert done.status_code == 200 and "acknowledged" in done.text
    assert Incident.get_by_id(incident.id).status == "acknowledged"
    assert client.simulate_post(path).status_code == 200                # pressed again: same


def test_a_notice_that_fails_for_good_is_in_the_timeline(owner, settings):
    team_webhook_channel(owner, "https://hooks.example/refused")
    with held_jobs():
        incident = declare(owner)
        [step] = IncidentStep.select()
        notices.run_step(step.id, settings=settings, now=clock.now())
    [row] = Delivery.select().where(Delivery.kind == "incident")

    def refuse(message):
        raise outbox.Refused("hooks.example resolves to 10.0.0.1, which this installation "
                             "may not reach")
    assert outbox.deliver(str(row.id), transport=refuse, settings=settings,
                          now=clock.now()) == "failed"
    kinds = [e.kind for e in incident.timeline.order_by(IncidentEvent.id)]
    assert kinds == ["opened", "notified", "failed"]
