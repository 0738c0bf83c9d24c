"""Status page subscriptions (endpoints 112-114) and the subscribe form: double opt-in over the
subscriber's own channel, notices of components going down and up and of incidents naming
them (once each, to confirmed subscribers only), unsubscribing by link, rate limits, and the
same answer whether or not an address was subscribed."""
from __future__ import annotations

import re

import pytest

from models import clock, state_changes
from models.incidents import lifecycle
from models.statuspages import subscribers
from models.statuspages.tables import Subscriber
from tests.api.test_public_pages import app_with
from tests.conftest import drain
from tests.factories.monitors import make_monitor
from tests.factories.organisations import caller_of, make_cast, make_service
from tests.factories.statuspages import first_setting, make_page

ADDRESS = "reader@example.org"


@pytest.fixture
def cast(settings):
    return make_cast(settings)


@pytest.fixture
def monitor(cast):
    return make_monitor(make_service(cast.team), name="Checkout API")


@pytest.fixture
def page(cast, monitor):
    return make_page(cast.alice, page_name="Acme Cloud", subscription_enabled=True,
                     components=[{"name": "Checkout", "type": "resource",
                                  "resource_id": str(monitor.id)},
                                 {"name": "Payments", "type": "manual"}])


@pytest.fixture
def public(settings, broker):
    return app_with(settings, broker, status_page_cache_seconds=0, status_domain="status.test")


def subscribe(client, page, value=ADDRESS, channel_type="email", **kwargs):
    return client.simulate_post("/v1/subscriptions", json={
        "channel_type": channel_type, "channel_value": value,
        **({"statuspage_id": str(page.id)} if page is not None else {})}, **kwargs)


def link_in(text: str, action: str) -> str:
    return re.search(rf"http://pinghome\.test(/subscribers/[^/\s]+/{action})", text).group(1)


def token_in(text: str) -> str:
    return link_in(text, "confirm").split("/")[2]


def change(monitor, to_status, trigger):
    now = clock.now()
    return state_changes.record("monitor", monitor.id, from_status="up" if to_status == "down"
                                else "down", to_status=to_status, cause="HTTP 503", at=now,
                                trigger=trigger, now=now)


def confirmed(client, page, smtp_sink, address=ADDRESS) -> str:
    assert subscribe(client, page, address).status_code == 202
    [asked] = smtp_sink.wait_for(address)
    token = token_in(asked.body)
    answer = client.simulate_put(f"/v1/subscription/{token}/verification")
    assert answer.status_code == 200, answer.json
    smtp_sink.clear()
    return token


def test_only_a_confirmed_subscriber_hears_of_its_component_going_down_and_up(
        client, broker, page, monitor, smtp_sink):
    answer = subscribe(client, page)
    assert answer.status_code == 202, answer.json
    [asked] = smtp_sink.wait_for(ADDRESS)
    assert "Confirm your subscription to Acme Cloud" in asked.subject
    pending = "late@example.org"
    assert subscribe(client, page, pending).status_code == 202
    smtp_sink.wait_for(pending)
    change(monitor, "down", "t1")
    drain(broker)
    assert [m.subject for m in smtp_sink.to(ADDRESS)] == [asked.subject]   # nothing yet

    token = token_in(asked.body)
    assert client.simulate_put(f"/v1/subscription/{token}/verification").status_code == 200
    assert client.simulate_put(f"/v1/subscription/{token}/verification").status_code == 200
    smtp_sink.clear()
    change(monitor, "down", "t2")
    drain(broker)
    [down] = smtp_sink.wait_for(ADDRESS)
    assert down.subject == "[Acme Cloud] Checkout: major outage"
    assert "Checkout is down: HTTP 503" in down.body
    assert "http://pinghome.test/status/" + page.subdomain in down.body
    leave = link_in(down.body, "unsubscribe")
    assert down.message["List-Unsubscribe"] == f"<http://pinghome.test{leave}>"
    assert down.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    change(monitor, "up", "t3")
    drain(broker)
    _, up = smtp_sink.wait_for(ADDRESS, 2)
    assert up.subject == "[Acme Cloud] Checkout: operational"
    assert smtp_sink.to(pending) == []          # never confirmed: told nothing


def test_a_change_told_twice_sends_one_notice(client, broker, page, monitor, smtp_sink):
    confirmed(client, page, smtp_sink)
    change_id = change(monitor, "down", "t1")
    drain(broker)
    subscribers.on_state_change([state_changes.StateChange.get_by_id(change_id)],
                                now=clock.now())
    drain(broker)
    assert len(smtp_sink.to(ADDRESS)) == 1


def test_unsubscribing_ends_the_notices_and_voids_the_token(client, broker, page, monitor,
                                                            smtp_sink):
    token = confirmed(client, page, smtp_sink)
    answer = client.simulate_delete(f"/v1/subscription/{token}")
    assert answer.status_code == 200, answer.json
    assert client.simulate_delete(f"/v1/subscription/{token}").status_code == 404
    assert client.simulate_put(f"/v1/subscription/{token}/verification").status_code == 404
    change(monitor, "down", "t1")
    drain(broker)
    assert smtp_sink.to(ADDRESS) == []


def test_the_answer_is_the_same_whatever_the_address_was(client, broker, page, smtp_sink):
    first = subscribe(client, page)
    again = subscribe(client, page)                 # pending: asked again
    smtp_sink.wait_for(ADDRESS, 2)
    token = token_in(smtp_sink.to(ADDRESS)[0].body)
    client.simulate_put(f"/v1/subscription/{token}/verification")
    smtp_sink.clear()
    third = subscribe(client, page)                 # confirmed: nothing is sent
    drain(broker)
    assert first.json == again.json == third.json and third.status_code == 202
    assert smtp_sink.to(ADDRESS) == []
    assert Subscriber.select().count() == 1


def test_subscribing_is_rate_limited_per_address_and_per_client(client, page, settings):
    for _ in range(5):
        assert subscribe(client, page, "Reader@Example.org").status_code == 202
    refused = subscribe(client, page)               # the same address, in normal form
    assert refused.status_code == 429, refused.json
    for number in range(25):           # 30 per client: the 6th above counted nothing
        assert subscribe(client, page, f"r{number}@example.org").status_code == 202
    refused = subscribe(client, page, "another@example.org")
    assert refused.status_code == 429 and "retry-after" in refused.headers


@pytest.mark.parametrize("fields, where", [
    ({"channel_type": "sms", "channel_value": "+994551234567"}, "channel_type"),
    ({"channel_type": "email", "channel_value": "not an address"}, "channel_value"),
    ({"channel_type": "webhook", "channel_value": "ftp://example.org/x"}, "channel_value"),
    ({"channel_type": "email"}, "channel_value"),
    ({"channel_type": "email", "channel_value": "a@example.org", "statuspage_id": "x"},
     "statuspage_id"),
])
def test_a_bad_subscription_is_refused_with_422(client, page, fields, where):
    answer = client.simulate_post("/v1/subscriptions",
                                  json={"statuspage_id": str(page.id), **fields})
    assert answer.status_code == 422, answer.json
    assert where in answer.json["error"]["fields"]


def test_a_page_must_exist_be_enabled_take_subscriptions_and_admit_the_client(
        client, settings, cast, page):
    import uuid
    assert subscribe(client, None).status_code == 422               # no page named
    unknown = client.simulate_post("/v1/subscriptions", json={
        "channel_type": "email", "channel_value": ADDRESS, "statuspage_id": str(uuid.uuid4())})
    assert unknown.status_code == 404
    closed = make_page(cast.alice)                                  # takes no subscriptions
    assert subscribe(client, closed).status_code == 422
    private = make_page(cast.alice, type="private", password="s3cret-words",
                        subscription_enabled=True)
    assert subscribe(client, private).status_code == 404
    other_key = subscribers.token(settings.replace(secret_key="another-key" * 4), uuid.uuid4())
    for forged in ("nonsense", "eyJ9.forged", other_key):
        assert client.simulate_put(f"/v1/subscription/{forged}/verification").status_code == 404
        assert client.simulate_delete(f"/v1/subscription/{forged}").status_code == 404


def test_a_page_addressed_by_its_host_needs_no_id(public, page, smtp_sink):
    answer = subscribe(public, None, host=f"{page.subdomain}.status.test")
    assert answer.status_code == 202, answer.json
    assert smtp_sink.wait_for(ADDRESS)


def test_a_webhook_subscriber_hears_of_incidents_naming_the_page(
        client, broker, cast, page, webhook_sink):
    url = f"{webhook_sink.url}/hooks/status"
    assert subscribe(client, page, url, "webhook").status_code == 202
    drain(broker)
    [asked] = webhook_sink.received("/hooks/status")
    assert asked.json()["event"] == "subscription.confirm"
    token = asked.json()["token"]
    assert asked.json()["confirm_url"].endswith(f"/subscribers/{token}/confirm")
    assert client.simulate_put(f"/v1/subscription/{token}/verification").status_code == 200
    incident = lifecycle.create_incident(
        caller_of(cast.alice), cast.team.id,
        {"name": "Checkout errors", "urgency": "high", "description": "We look into it",
         "actions": [{"type": "trigger-alerts", "settings": [first_setting(page)]}]},
        now=clock.now())
    lifecycle.move(caller_of(cast.alice), incident.id, "acknowledged", now=clock.now())
    lifecycle.move(caller_of(cast.alice), incident.id, "resolved", now=clock.now())
    drain(broker)
    webhook_sink.wait_for("/hooks/status", 4)
    order = ["incident.opened", "incident.identified", "incident.resolved"]
    events = sorted([r.json() for r in webhook_sink.received("/hooks/status")][1:],
                    key=lambda e: order.index(e["event"]))     # sent in parallel
    assert [e["event"] for e in events] == order
    assert events[0]["incident"]["name"] == "Checkout errors"
    assert events[0]["components"] == ["Checkout"]
    assert events[0]["page"]["name"] == "Acme Cloud"
    assert events[2]["unsubscribe_url"].endswith(f"/subscribers/{token}/unsubscribe")
    assert "subscriber" not in events[0]


def test_the_subscribe_form_and_the_links_work_without_javascript(public, page, smtp_sink):
    form = public.simulate_post(f"/status/{page.subdomain}/subscribe", body=f"email={ADDRESS}",
                                headers={"content-type": "application/x-www-form-urlencoded"})
    assert form.status_code == 200 and "Check your inbox" in form.text
    [asked] = smtp_sink.wait_for(ADDRESS)
    confirm = link_in(asked.body, "confirm")
    shown = public.simulate_get(confirm)
    assert shown.status_code == 200 and f'action="{confirm}"' in shown.text
    assert Subscriber.get().confirmed_at is None                # a GET changes nothing
    done = public.simulate_post(confirm)
    assert done.status_code == 200 and "Subscription confirmed" in done.text
    assert Subscriber.get().confirmed_at is not None
    leave = confirm.replace("/confirm", "/unsubscribe")
    assert public.simulate_get(leave).status_code == 200
    gone = public.simulate_post(leave, body="List-Unsubscribe=One-Click")   # RFC 8058
    assert gone.status_code == 200 and "Unsubscribed" in gone.text
    assert Subscriber.select().count() == 0
    assert public.simulate_get(leave).status_code == 404
    bad = public.simulate_post(f"/status/{page.subdomain}/subscribe", body="email=nobody",
                               headers={"content-type": "application/x-www-form-urlencoded"})
    assert bad.status_code == 422 and "email" in bad.text


def test_a_component_a_pinghome_integration_names_tells_its_subscribers(
        client, broker, settings, cast, page, smtp_sink):
    from models import integrations
    other = make_monitor(make_service(cast.team), name="Payment gateway")
    payments = page.components.where(page.components.model.name == "Payments").get()
    integrations.create_integration(caller_of(cast.alice), other.id, {
        "type": "pinghome", "integration": str(page.id), "items": [str(payments.id)]},
        settings=settings, now=clock.now())
    confirmed(client, page, smtp_sink)
    change(other, "down", "t1")
    drain(broker)
    [down] = smtp_sink.wait_for(ADDRESS)
    assert down.subject == "[Acme Cloud] Payments: major outage"


def test_subscribers_hear_of_a_maintenance_window_an_hour_ahead_once(
        client, broker, cast, page, monitor, smtp_sink):
    import datetime as dt

    from models.monitors.tables import Monitor
    Monitor.update(maintenance_cron_expression="0 10 * * *", maintenance_duration=30).where(
        Monitor.id == monitor.id).execute()
    confirmed(client, page, smtp_sink)
    day = dt.datetime(2026, 12, 3, tzinfo=dt.timezone.utc)
    subscribers.announce_maintenance(now=day.replace(hour=8, minute=30))    # too early
    drain(broker)
    assert smtp_sink.to(ADDRESS) == []
    for hour, minute in ((9, 0), (9, 1), (10, 5)):     # an hour ahead, again, under way
        subscribers.announce_maintenance(now=day.replace(hour=hour, minute=minute))
    drain(broker)
    [notice] = smtp_sink.wait_for(ADDRESS)
    assert notice.subject == "[Acme Cloud] Maintenance: Checkout"
    assert "03 Dec 2026 10:00 to 10:30 UTC" in notice.body
