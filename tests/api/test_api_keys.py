"""API keys (issue 14): owners make read-only and read-write keys of their organisation; a key
acts as `user` (read-only, GET only) or `manager` (read-write) in every team of it, never as an
owner and never as a person."""
from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.api_keys import ApiKey
from models.incidents.tables import IncidentEvent
from tests.factories.accounts import bearer
from tests.factories.organisations import first_team, make_cast, make_service

UNKNOWN = "00000000-0000-4000-8000-000000000000"
SLACK = "https://hooks.slack.com/services/T000/B000/XXXXXXXX"


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="manager")


@pytest.fixture
def service(cast):
    return make_service(cast.team)


def make_key(client, token, kind="read-only", name="deploy script"):
    return client.simulate_post("/v1/api-keys", json={"name": name, "kind": kind},
                                headers=bearer(token))


def key_of(client, cast, kind="read-only") -> str:
    response = make_key(client, cast.alice_token, kind)
    assert response.status_code == 201, response.json
    return response.json["key"]


def listed(client, token):
    return client.simulate_get("/v1/api-keys", headers=bearer(token))


# -- owners make, list and revoke ------------------------------------------------------------

def test_an_owner_makes_a_key_shown_once_and_listed_without_its_secret(client, cast):
    made = make_key(client, cast.alice_token, "read-write", "CI")
    assert made.status_code == 201, made.json
    body = made.json
    assert (body["name"], body["kind"], body["revoked_at"], body["last_used_at"]) == (
        "CI", "read-write", None, None)
    assert body["key"].startswith("phk_") and len(body["key"]) > 40
    assert body["key"].startswith(body["prefix"]) and len(body["prefix"]) == 12
    assert body["created_at"].endswith("Z")
    found = listed(client, cast.alice_token)
    assert found.status_code == 200
    assert [k["id"] for k in found.json["data"]] == [body["id"]]
    assert "key" not in found.json["data"][0]
    assert body["key"] not in found.text
    assert found.json["data"][0] == {name: value for name, value in body.items() if name != "key"}


def test_the_stored_row_holds_only_a_hash_of_the_key(client, cast):
    secret = key_of(client, cast)
    row = ApiKey.get()
    stored = [str(value) for value in row.__data__.values()]
    assert not any(secret in value or secret[len(row.prefix):] in value for value in stored)
    assert len(row.key_hash) == 64 and row.prefix == secret[:12]


@pytest.mark.parametrize("role", ["manager", "user"])
def test_only_owners_make_list_and_revoke_keys(client, settings, role):
    cast = make_cast(settings, bob_role=role)
    made = make_key(client, cast.alice_token).json
    assert make_key(client, cast.bob_token).status_code == 403
    assert listed(client, cast.bob_token).status_code == 403
    revoked = client.simulate_delete(f"/v1/api-key/{made['id']}", headers=bearer(cast.bob_token))
    assert revoked.status_code == 403
    assert revoked.json["error"]["code"] == "role_required"


@pytest.mark.parametrize("body, field", [
    ({"kind": "read-only"}, "name"),
    ({"name": "", "kind": "read-only"}, "name"),
    ({"name": "   ", "kind": "read-only"}, "name"),
    ({"name": "x" * 101, "kind": "read-only"}, "name"),
    ({"name": 7, "kind": "read-only"}, "name"),
    ({"name": "ci"}, "kind"),
    ({"name": "ci", "kind": "admin"}, "kind"),
])
def test_a_bad_key_body_is_a_422_naming_the_field(client, cast, body, field):
    response = client.simulate_post("/v1/api-keys", json=body, headers=bearer(cast.alice_token))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_a_revoked_key_answers_401_and_stays_listed_with_its_revocation(client, cast, service):
    made = make_key(client, cast.alice_token).json
    assert client.simulate_get(f"/v1/team/{cast.team.id}/services",
                               headers=bearer(made["key"])).status_code == 200
    revoked = client.simulate_delete(f"/v1/api-key/{made['id']}",
                                     headers=bearer(cast.alice_token))
    assert revoked.status_code == 200 and revoked.json["revoked_at"].endswith("Z")
    refused = client.simulate_get(f"/v1/team/{cast.team.id}/services",
                                  headers=bearer(made["key"]))
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthenticated"
    again = client.simulate_delete(f"/v1/api-key/{made['id']}", headers=bearer(cast.alice_token))
    assert again.json["revoked_at"] == revoked.json["revoked_at"]
    [shown] = listed(client, cast.alice_token).json["data"]
    assert shown["revoked_at"] == revoked.json["revoked_at"]


def test_another_organisations_key_is_404_to_revoke_and_not_listed(client, cast):
    made = make_key(client, cast.alice_token).json
    charlies = client.simulate_delete(f"/v1/api-key/{made['id']}",
                                      headers=bearer(cast.charlie_token))
    assert charlies.status_code == 404
    assert client.simulate_delete(f"/v1/api-key/{UNKNOWN}",
                                  headers=bearer(cast.alice_token)).status_code == 404
    assert listed(client, cast.charlie_token).json["data"] == []
    assert ApiKey.get_by_id(made["id"]).revoked_at is None


def test_use_is_noted_at_most_once_a_minute(client, cast):
    secret = key_of(client, cast)
    path = f"/v1/team/{cast.team.id}/services"
    client.simulate_get(path, headers=bearer(secret))
    first = ApiKey.get().last_used_at
    assert first is not None
    client.simulate_get(path, headers=bearer(secret))
    assert ApiKey.get().last_used_at == first
    earlier = clock.now() - dt.timedelta(minutes=2)
    ApiKey.update(last_used_at=earlier).execute()
    client.simulate_get(path, headers=bearer(secret))
    assert ApiKey.get().last_used_at > earlier


# -- what a key may do ------------------------------------------------------------------------

@pytest.mark.parametrize("token", ["phk_", "phk_x", "phk_" + "x" * 10_240, "phk_\u00e9t\u00e9",
                                   "phk_" + "0" * 43])
def test_a_malformed_or_unknown_key_is_a_401(client, cast, token):
    response = client.simulate_get(f"/v1/team/{cast.team.id}/services", headers=bearer(token))
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"


def test_a_read_only_key_reads_its_organisations_monitors_services_and_heartbeats(client, cast,
                                                                                  service):
    alice = bearer(cast.alice_token)
    monitor = client.simulate_post("/v1/resource", headers=alice, json={
        "name": "Website", "type": "http", "url": "https://example.com/health",
        "service_id": str(service.id)}).json
    heartbeat = client.simulate_post("/v1/heartbeat", headers=alice, json={
        "name": "Nightly backup", "service_id": str(service.id)}).json
    key = bearer(key_of(client, cast, "read-only"))
    for path, expected in ((f"/v1/resource/{monitor['id']}", monitor["id"]),
                           (f"/v1/heartbeat/{heartbeat['id']}", heartbeat["id"]),
                           (f"/v1/team-service/{service.id}", str(service.id))):
        found = client.simulate_get(path, headers=key)
        assert (found.status_code, found.json["id"]) == (200, expected), path
    teams = client.simulate_get("/v1/teams", headers=key).json["data"]
    assert [(t["id"], t["role"]) for t in teams] == [(str(cast.team.id), "user")]
    listed_monitors = client.simulate_get(f"/v1/service/{service.id}/resources", headers=key)
    assert [m["id"] for m in listed_monitors.json["data"]] == [monitor["id"]]
    listed_beats = client.simulate_get(f"/v1/service/{service.id}/heartbeats", headers=key)
    assert [h["id"] for h in listed_beats.json["data"]] == [heartbeat["id"]]
    services = client.simulate_get(f"/v1/team/{cast.team.id}/services", headers=key)
    assert [s["id"] for s in services.json["data"]] == [str(service.id)]


def test_a_read_only_key_may_only_get(client, cast, service):
    key = bearer(key_of(client, cast, "read-only"))
    attempts = [
        client.simulate_post("/v1/resource", headers=key, json={
            "name": "Website", "type": "http", "url": "https://example.com/health",
            "service_id": str(service.id)}),
        client.simulate_put(f"/v1/service/{service.id}", headers=key, json={"name": "Renamed"}),
        client.simulate_delete(f"/v1/service/{service.id}", headers=key),
        client.simulate_patch("/v1/customer", headers=key, json={"name": "Key"}),
        make_key(client, key["Authorization"].split()[1]),
    ]
    for response in attempts:
        assert response.status_code == 403, response.json
        assert response.json["error"]["code"] == "read_only_key"


def test_a_read_only_key_sees_no_push_key_and_no_signing_secret(client, cast, service,
                                                                webhook_sink):
    alice = bearer(cast.alice_token)
    server = client.simulate_post("/v1/server-resource", headers=alice, json={
        "service_id": str(service.id), "name": "db-1"}).json
    channels = f"/v1/team/{cast.team.id}/notification-channel"
    client.simulate_post(channels, headers=alice, json={
        "type": "webhook", "value": f"{webhook_sink.url}/hooks/s3cr3t?key=k3y"})
    client.simulate_post(channels, headers=alice, json={"type": "slack", "value": SLACK})
    read_only, read_write = (bearer(key_of(client, cast, kind))
                             for kind in ("read-only", "read-write"))

    def seen(headers):
        return (client.simulate_get(f"/v1/server-resource/{server['id']}", headers=headers).json,
                client.simulate_get(f"{channels}s", headers=headers).json["data"])

    owners_server, owners_channels = seen(alice)
    assert owners_server["token"] and owners_server["agent_command"]
    assert owners_channels[0]["signing_secret"]
    keys_server, keys_channels = seen(read_only)
    assert "token" not in keys_server and "agent_command" not in keys_server
    assert server["token"] not in str(keys_server)
    assert "signing_secret" not in keys_channels[0]
    assert [c["value"] for c in keys_channels] == ["http://127.0.0.1/…",
                                                  "https://hooks.slack.com/…"]
    managers_server, managers_channels = seen(read_write)       # a manager's view
    assert (managers_server["token"], managers_server["agent_command"]) == (
        owners_server["token"], owners_server["agent_command"])
    secrets = lambda found: [(c["value"], c.get("signing_secret")) for c in found]  # noqa: E731
    assert secrets(managers_channels) == secrets(owners_channels)


def test_a_read_write_key_changes_monitors_but_nothing_only_owners_may(client, cast, service):
    key = bearer(key_of(client, cast, "read-write"))
    monitor = client.simulate_post("/v1/resource", headers=key, json={
        "name": "Website", "type": "http", "url": "https://example.com/health",
        "service_id": str(service.id)})
    assert monitor.status_code == 201, monitor.json
    assert client.simulate_put(f"/v1/service/{service.id}", headers=key,
                               json={"name": "Renamed"}).status_code == 200
    refused = [
        client.simulate_post("/v1/team", headers=key, json={"name": "Keys' own"}),
        client.simulate_post(f"/v1/team/{cast.team.id}/invitation", headers=key,
                             json={"channel_value": "new@example.com"}),
        client.simulate_delete(f"/v1/team/{cast.team.id}", headers=key),
        make_key(client, key["Authorization"].split()[1]),
        client.simulate_get("/v1/api-keys", headers=key),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert {r.json["error"]["code"] for r in refused} == {"role_required"}


def test_a_read_write_key_opens_an_incident_in_its_own_name(client, cast):
    key = bearer(key_of(client, cast, "read-write"))
    opened = client.simulate_post(f"/v1/team/{cast.team.id}/incident", headers=key,
                                  json={"name": "Deploy failed", "urgency": "low"})
    assert opened.status_code == 201, opened.json
    acknowledged = client.simulate_put(f"/v1/incident/{opened.json['id']}", headers=key,
                                       json={"status": "acknowledged"})
    assert acknowledged.status_code == 200, acknowledged.json
    timeline = {event.kind: (event.message, event.actor_id) for event in IncidentEvent.select()
                .where(IncidentEvent.incident == opened.json["id"])}
    assert timeline["opened"] == ("Opened by API key 'deploy script'", None)
    assert timeline["acknowledged"] == ("Acknowledged by API key 'deploy script'", None)


def test_a_key_is_not_a_person(client, cast):
    key = bearer(key_of(client, cast, "read-write"))
    refused = [
        client.simulate_patch("/v1/customer", headers=key, json={"name": "Key"}),
        client.simulate_delete("/v1/auth", headers=key),
        client.simulate_put("/v1/account/password", headers=key, json={
            "previous_password": "correct-horse-1", "proposed_password": "battery-staple-2"}),
        client.simulate_post(f"/v1/customer/{cast.alice.id}/notification-channel", headers=key,
                             json={"type": "email", "value": "key@example.com"}),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused), [r.json for r in refused]
    assert {r.json["error"]["code"] for r in refused} == {"person_required"}
    assert client.simulate_get(f"/v1/team/{cast.team.id}/services",
                               headers=key).status_code == 200    # the key still works


def test_a_key_never_reaches_another_organisation(client, cast, settings):
    charlies_team = first_team(cast.charlie)
    charlies_service = make_service(charlies_team)
    for kind in ("read-only", "read-write"):
        key = bearer(key_of(client, cast, kind))
        for path in (f"/v1/team/{charlies_team.id}/services",
                     f"/v1/team-service/{charlies_service.id}",
                     f"/v1/service/{charlies_service.id}/resources",
                     f"/v1/customer/{cast.charlie.id}"):
            assert client.simulate_get(path, headers=key).status_code == 404, (kind, path)
        teams = client.simulate_get("/v1/teams", headers=key).json["data"]
        assert [t["id"] for t in teams] == [str(cast.team.id)]
    key = bearer(key_of(client, cast, "read-write"))
    assert client.simulate_put(f"/v1/service/{charlies_service.id}", headers=key,
                               json={"name": "Mine"}).status_code == 404


def test_a_read_write_key_makes_an_on_call_schedule_for_a_member_it_names(client, cast):
    key = bearer(key_of(client, cast, "read-write"))
    nobody = client.simulate_post("/api/ocs/", json={"name": "Primary"}, headers=key)
    assert nobody.status_code == 422 and "customer" in nobody.json["error"]["fields"]
    made = client.simulate_post("/api/ocs/", headers=key,
                                json={"name": "Primary", "customer": str(cast.bob.id)})
    assert made.status_code == 201, made.json
