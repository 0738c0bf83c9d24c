"""Endpoints 89-92: incident webhooks created and listed on the API, events posted to the gateway
over real HTTP (flushed from Redis, or stored at once embedded) and listed back."""
from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import pytest

from models.incidents.webhooks import BODY_KEEP, WebhookEvent
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast
from tests.polling import wait_until


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


def create(client, token, **fields):
    return client.simulate_post("/v1/webhook", json=fields, headers=bearer(token))


def post(url: str, body: bytes, content_type: str | None = "application/json"):
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type} if content_type
                                     else {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def stored(count: int) -> list:
    wait_until(lambda: WebhookEvent.select().count() >= count, timeout=20,
               message=f"{count} events stored")
    return list(WebhookEvent.select())


def event_url(gateway: str, webhook: dict) -> str:
    return f"{gateway}{urlsplit(webhook['url']).path}"


def test_a_webhook_is_created_for_the_first_team_and_listed_with_its_url(client, cast, settings):
    response = create(client, cast.alice_token, name="Alertmanager", description="prod")
    assert response.status_code == 201, response.json
    webhook = response.json
    assert webhook["team_id"] == str(cast.team.id)
    assert webhook["url"] == f"{settings.gateway_url}/v1/incident/webhook/{webhook['id']}"
    listed = client.simulate_get("/v1/webhooks", headers=bearer(cast.bob_token)).json
    assert [w["id"] for w in listed["data"]] == [webhook["id"]] and listed["total"] == 1


def test_a_user_cannot_create_a_webhook_and_another_organisation_sees_none(client, cast):
    assert create(client, cast.bob_token, name="Mine").status_code == 403
    webhook = create(client, cast.alice_token, name="Ours").json
    assert client.simulate_get("/v1/webhooks",
                               headers=bearer(cast.charlie_token)).json["data"] == []
    events = client.simulate_get(f"/v1/webhook/{webhook['id']}/events",
                                 headers=bearer(cast.charlie_token))
    assert events.status_code == 404 and events.json["error"]["code"] == "not_found"
    theirs = create(client, cast.charlie_token, team_id=str(cast.team.id))
    assert theirs.status_code == 404


@pytest.mark.parametrize("fields, field", [({"name": "x" * 201}, "name"),
                                           ({"team_id": "not-a-uuid"}, "team_id"),
                                           ({"description": 5}, "description")])
def test_bad_webhook_fields_are_refused_with_their_names(client, cast, fields, field):
    response = create(client, cast.alice_token, **fields)
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_posted_events_of_any_kind_are_kept_and_listed_newest_first(client, cast, gateway):
    webhook = create(client, cast.alice_token, name="Grafana").json
    url = event_url(gateway, webhook)
    status, answer = post(url, b'{"dedup_key": "disk", "event_action": "trigger"}')
    assert status == 202 and answer["content_type"] == "application/json"
    assert answer["ip"] == "127.0.0.1" and len(answer["id"]) == 32
    assert post(url, b"plain words", "text/plain")[0] == 202
    assert post(url, b"\xff\xfe\x00binary", "application/octet-stream")[0] == 202
    assert post(url, b"", None)[0] == 202
    stored(4)
    listed = client.simulate_get(f"/v1/webhook/{webhook['id']}/events?limit=2",
                                 headers=bearer(cast.bob_token)).json["data"]
    # urllib names a form when no type is given
    assert [e["content_type"] for e in listed] == ["application/x-www-form-urlencoded",
                                                   "application/octet-stream"]
    rest = client.simulate_get(f"/v1/webhook/{webhook['id']}/events", params={
        "last_received_at": listed[-1]["received_at"]}, headers=bearer(cast.bob_token)).json
    assert [e["body"] for e in rest["data"]] == [
        "plain words", '{"dedup_key": "disk", "event_action": "trigger"}']
    assert rest["data"][1]["id"] == answer["id"]


def test_a_ten_megabyte_post_is_cut_not_refused(client, cast, gateway):
    webhook = create(client, cast.alice_token).json
    status, _ = post(event_url(gateway, webhook), b"a" * (10 * 1024 * 1024), "text/plain")
    assert status == 202
    [event] = stored(1)
    assert len(event.body) == BODY_KEEP


def test_a_chunked_post_is_kept(client, cast, gateway):
    webhook = create(client, cast.alice_token).json
    parts = urlsplit(event_url(gateway, webhook))
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    connection.request("POST", parts.path, body=iter([b'{"status": ', b'"firing"}']),
                       headers={"Content-Type": "application/json"}, encode_chunked=True)
    assert connection.getresponse().status == 202
    [event] = stored(1)
    assert event.body == '{"status": "firing"}'


def test_an_unknown_webhook_is_a_404_and_nothing_is_stored(gateway):
    status, answer = post(f"{gateway}/v1/incident/webhook/00000000-0000-4000-8000-000000000000",
                          b"{}")
    assert status == 404 and answer["error"]["code"] == "not_found"
    assert post(f"{gateway}/v1/incident/webhook/not-a-uuid", b"{}")[0] == 404
    assert WebhookEvent.select().count() == 0


def test_every_stored_event_is_held_against_the_rulesets_once(client, cast, gateway):
    webhook = create(client, cast.alice_token).json
    for n in range(20):
        assert post(event_url(gateway, webhook), json.dumps({"n": n}).encode())[0] == 202
    stored(20)
    wait_until(lambda: WebhookEvent.select().where(
        WebhookEvent.rules_applied_at.is_null()).count() == 0, timeout=20)
