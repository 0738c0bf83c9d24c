"""A status page end to end on the running system: everything set up through the API, a real
probe of a local target that turns bad takes the monitor down, its component shows
`major_outage` on the public page and in unified, each confirmed subscriber (mail over real
SMTP, a webhook) gets one notice and the unconfirmed one none, the fake Statuspage server gets
one incident; the target recovers, the component is `operational` again, the subscribers hear
of it and Statuspage gets the resolution. The scheduler's probe loop runs in this process; the
session's worker does the rest."""
from __future__ import annotations

import re

import pytest

from models.monitors.tables import Monitor
from tests.conftest import drain
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast, make_service
from tests.polling import wait_until
from tests.workers.test_alerting_loop import probing  # noqa: F401  (the fixture)

CONFIRMED, PENDING = "reader@example.org", "someday@example.org"


def _subscribe(client, page_id, channel_type, value) -> None:
    answer = client.simulate_post("/v1/subscriptions", json={
        "statuspage_id": page_id, "channel_type": channel_type, "channel_value": value})
    assert answer.status_code == 202, answer.json


def _confirm(client, token: str) -> None:
    assert client.simulate_put(f"/v1/subscription/{token}/verification").status_code == 200


def _component(client, token, page) -> str:
    unified = client.simulate_get(f"/v1/statuspage/{page['id']}/unified",
                                  headers=bearer(token)).json
    return unified["components"][0]["status"]


def _public(client, page) -> tuple[str, str]:
    summary = client.simulate_get(f"/status/{page['subdomain']}/summary.json").json
    return summary["status"], summary["components"][0]["status"]


def _notices(smtp_sink, address) -> list[str]:
    return [m.subject for m in smtp_sink.to(address) if "Confirm" not in m.subject]


@pytest.mark.timeout(180)
def test_a_monitor_down_and_up_moves_its_page_tells_its_subscribers_and_statuspage(
        settings, broker, client, target, smtp_sink, webhook_sink, statuspage, probing):  # noqa: F811
    cast = make_cast(settings)
    token = cast.alice_token
    made = client.simulate_post("/v1/resource", headers=bearer(token), json={
        "service_id": str(make_service(cast.team).id), "name": "Shop", "type": "http",
        "url": f"{target.url}/health", "interval": 10, "timeout": 2, "regions": ["local"]})
    assert made.status_code == 201, made.json
    monitor_id = made.json["id"]
    made = client.simulate_post("/v1/statuspage", headers=bearer(token), json={
        "name": "Acme", "page_name": "Acme Cloud", "subdomain": "acme-e2e",
        "subscription_enabled": True,
        "components": [{"name": "Shop", "type": "resource", "resource_id": monitor_id}]})
    assert made.status_code == 201, made.json
    page = made.json
    made = client.simulate_post(f"/v1/resource/{monitor_id}/integration", headers=bearer(token),
                                json={"type": "statuspageIo", "integration": "r276xxt51c23",
                                      "items": ["ggs24084vt79"], "api_key": "sp-key"})
    assert made.status_code == 201, made.json

    _subscribe(client, page["id"], "email", CONFIRMED)
    _subscribe(client, page["id"], "email", PENDING)
    _subscribe(client, page["id"], "webhook", f"{webhook_sink.url}/subscriber")
    [asked] = smtp_sink.wait_for(CONFIRMED)
    _confirm(client, re.search(r"/subscribers/([^/\s]+)/confirm", asked.body).group(1))
    [hook] = webhook_sink.wait_for("/subscriber")
    _confirm(client, hook.json()["token"])
    smtp_sink.wait_for(PENDING)
    wait_until(lambda: Monitor.get_by_id(monitor_id).status == "up", timeout=30)
    assert _public(client, page) == ("operational", "operational")

    target.answers["/health"] = (503, b"broken")
    [down] = smtp_sink.wait_for(CONFIRMED, 2, timeout=40)[1:]
    assert down.subject == "[Acme Cloud] Shop: major outage" and "HTTP 503" in down.body
    assert _component(client, cast.bob_token, page) == "major_outage"
    wait_until(lambda: _public(client, page) == ("major_outage", "major_outage"), timeout=5)
    [opened] = statuspage.wait_for("/v1/pages/")
    assert (opened.method, opened.json()["incident"]["components"]) == (
        "POST", {"ggs24084vt79": "major_outage"})
    [_, webhook_down] = webhook_sink.wait_for("/subscriber", 2)
    assert webhook_down.json()["event"] == "component.down"

    target.answers["/health"] = (200, b"ok")
    [up] = smtp_sink.wait_for(CONFIRMED, 3, timeout=40)[2:]
    assert up.subject == "[Acme Cloud] Shop: operational"
    assert _component(client, cast.bob_token, page) == "operational"
    wait_until(lambda: _public(client, page) == ("operational", "operational"), timeout=5)
    [_, resolved] = statuspage.wait_for("/v1/pages/", 2)
    assert (resolved.method, resolved.json()["incident"]["status"]) == ("PATCH", "resolved")

    drain(broker)
    assert _notices(smtp_sink, CONFIRMED) == ["[Acme Cloud] Shop: major outage",
                                              "[Acme Cloud] Shop: operational"]
    assert [r.json()["event"] for r in webhook_sink.received("/subscriber")] == [
        "subscription.confirm", "component.down", "component.up"]
    assert _notices(smtp_sink, PENDING) == []          # never confirmed: told nothing
    assert len(statuspage.received("/v1/pages/")) == 2
