"""Endpoints 68-73: server monitors through the API (the agent's side is tests/pinghome/)."""
from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.organisations import Membership, Organisation
from models.servers import reports
from models.servers.metrics import TYPES
from models.servers.tables import Server, ServerMetric
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast, make_service

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="manager")


@pytest.fixture
def service(cast):
    return make_service(cast.team)


def create(client, cast, service, token=None, **fields):
    body = {"service_id": str(service.id), "name": "db-1", "description": "Primary database",
            "timezone": "Europe/Berlin", "chart_type_default": "line", **fields}
    return client.simulate_post("/v1/server-resource", json=body,
                                headers=bearer(token or cast.alice_token))


def test_a_server_is_created_pending_with_its_push_key_and_agent_command(client, cast, service,
                                                                         settings):
    response = create(client, cast, service)
    assert response.status_code == 201, response.json
    server = response.json
    assert (server["name"], server["description"], server["timezone"],
            server["chart_type_default"]) == ("db-1", "Primary database", "Europe/Berlin", "line")
    assert (server["status"], server["enabled"], server["last_report_at"]) == ("pending", True,
                                                                              None)
    assert len(server["token"]) >= 32
    assert server["agent_command"] == (
        f"pip install pinghome && pinghome-agent --gateway {settings.gateway_url} "
        f"--server {server['id']} --token={server['token']}")
    assert Server.get_by_id(server["id"]).deadline_at is None   # no alert before a first report


def test_the_seeds_example_body_is_accepted_and_defaults_fill_the_rest(client, cast, service):
    minimal = client.simulate_post("/v1/server-resource", headers=bearer(cast.alice_token),
                                   json={"service_id": str(service.id), "name": "web-1"})
    assert minimal.status_code == 201
    assert (minimal.json["timezone"], minimal.json["chart_type_default"]) == ("UTC", "line")


@pytest.mark.parametrize("fields, field", [
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"timezone": 1}, "timezone"),
    ({"chart_type_default": "pie-in-the-sky"}, "chart_type_default"),
    ({"name": ""}, "name"),
    ({"name": "x" * 201}, "name"),
    ({"service_id": "nope"}, "service_id"),
    ({"service_id": None}, "service_id"),
    ({"description": "x" * 5001}, "description"),
])
def test_a_bad_server_is_a_422_naming_the_field(client, cast, service, fields, field):
    response = create(client, cast, service, **fields)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_a_malformed_body_is_a_400(client, cast):
    response = client.simulate_post("/v1/server-resource", body=b"{", headers=bearer(
        cast.alice_token))
    assert response.status_code == 400


def test_the_plan_limits_the_number_of_servers(client, cast, service):
    Organisation.update(plan="free").execute()
    for _ in range(2):                               # the free plan allows two
        assert create(client, cast, service).status_code == 201
    response = create(client, cast, service)
    assert response.status_code == 403 and response.json["error"]["code"] == "plan_limit_reached"


def test_a_server_is_read_updated_and_moved(client, cast, service):
    server_id = create(client, cast, service).json["id"]
    other = make_service(cast.team)
    headers = bearer(cast.bob_token)
    updated = client.simulate_put(f"/v1/server-resource/{server_id}", headers=headers, json={
        "service_id": str(other.id), "name": "db-2", "timezone": "America/New_York",
        "chart_type_default": "area"})
    assert updated.status_code == 200, updated.json
    assert (updated.json["name"], updated.json["timezone"], updated.json["service_id"],
            updated.json["description"]) == ("db-2", "America/New_York", str(other.id),
                                             "Primary database")
    read = client.simulate_get(f"/v1/server-resource/{server_id}", headers=headers).json
    assert read["chart_type_default"] == "area" and read["token"] == updated.json["token"]


def test_disabling_stops_the_silence_watch_and_enabling_waits_for_a_report(client, cast,
                                                                          service):
    server_id = create(client, cast, service).json["id"]
    server = Server.get_by_id(server_id)
    reports.record_report(server, [("cpu-total-usage", clock.now(), {"percent": 1.0})],
                          interval_seconds=10, now=clock.now())
    assert Server.get_by_id(server_id).deadline_at is not None
    path, headers = f"/v1/server-resource/{server_id}", bearer(cast.alice_token)
    assert client.simulate_put(path, json={"enabled": False}, headers=headers).json[
        "enabled"] is False
    assert Server.get_by_id(server_id).deadline_at is None
    assert reports.mark_silent(now=clock.now() + dt.timedelta(hours=1)) == 0
    enabled = client.simulate_put(path, json={"enabled": True}, headers=headers).json
    assert (enabled["enabled"], enabled["status"]) == (True, "pending")


def test_servers_are_listed_by_service_in_pages(client, cast, service):
    Organisation.update(plan="business").execute()
    ids = [create(client, cast, service, name=f"web-{n}").json["id"] for n in range(5)]
    path, headers = f"/v1/service/{service.id}/server-resources", bearer(cast.bob_token)
    first = client.simulate_get(path, params={"page": 1, "limit": 2}, headers=headers).json
    last = client.simulate_get(path, params={"page": 3, "limit": 2}, headers=headers).json
    assert (first["page"], first["limit"], first["total"]) == (1, 2, 5)
    assert [s["id"] for s in first["data"]] == ids[:2]
    assert [s["id"] for s in last["data"]] == ids[4:]
    assert "token" not in first["data"][0]                # the push key only on the server's page
    assert client.simulate_get(path, params={"limit": 0}, headers=headers).status_code == 422


def test_servers_are_deleted_all_or_nothing_with_their_readings(client, cast, service):
    Organisation.update(plan="business").execute()
    ids = [create(client, cast, service).json["id"] for _ in range(3)]
    reports.record_report(Server.get_by_id(ids[0]),
                          [("cpu-total-usage", clock.now(), {"percent": 3.0})],
                          interval_seconds=10, now=clock.now())
    headers = bearer(cast.alice_token)
    refused = client.simulate_delete("/v1/server-resource",
                                     query_string=f"id={ids[0]}&id={UNKNOWN}", headers=headers)
    assert refused.status_code == 404 and Server.select().count() == 3
    done = client.simulate_delete("/v1/server-resource",
                                  query_string=f"id={ids[0]}&id={ids[1]}", headers=headers)
    assert done.status_code == 200 and done.json["ids"] == ids[:2]
    assert [str(s.id) for s in Server.select()] == ids[2:]
    assert ServerMetric.select().count() == 0
    assert client.simulate_delete("/v1/server-resource", headers=headers).status_code == 422


def test_deleting_a_service_deletes_its_servers_and_the_service_counts_them(client, cast,
                                                                           service):
    create(client, cast, service)
    details = client.simulate_get(f"/v1/team-service/{service.id}", headers=bearer(cast.bob_token))
    assert details.json["counts"]["server_monitors"] == 1
    client.simulate_delete(f"/v1/service/{service.id}", headers=bearer(cast.alice_token))
    assert Server.select().count() == 0


def test_users_read_servers_but_do_not_change_them(client, settings):
    cast = make_cast(settings, bob_role="user")
    service = make_service(cast.team)
    server_id = create(client, cast, service).json["id"]
    headers = bearer(cast.bob_token)
    assert client.simulate_get(f"/v1/server-resource/{server_id}", headers=headers).status_code \
        == 200
    assert client.simulate_get(f"/v1/server-resource/{server_id}/metrics",
                               headers=headers).status_code == 200
    assert create(client, cast, service, token=cast.bob_token).status_code == 403
    assert client.simulate_put(f"/v1/server-resource/{server_id}", json={"name": "x"},
                               headers=headers).status_code == 403
    assert client.simulate_delete("/v1/server-resource", query_string=f"id={server_id}",
                                  headers=headers).status_code == 403
    assert Server.get_by_id(server_id).name == "db-1"


def test_a_read_only_member_sees_no_push_key_and_a_manager_does(client, settings):
    cast = make_cast(settings, bob_role="user")
    server_id = create(client, cast, make_service(cast.team)).json["id"]
    path = f"/v1/server-resource/{server_id}"
    read = client.simulate_get(path, headers=bearer(cast.bob_token))
    assert read.status_code == 200 and read.json["id"] == server_id
    assert "token" not in read.json and "agent_command" not in read.json
    Membership.update(role="manager").where(Membership.customer == cast.bob.id).execute()
    managed = client.simulate_get(path, headers=bearer(cast.bob_token)).json
    assert managed["token"] == Server.get_by_id(server_id).token
    assert managed["token"] in managed["agent_command"]


def test_another_organisations_servers_are_not_found(client, cast, service):
    server_id = create(client, cast, service).json["id"]
    headers = bearer(cast.charlie_token)
    item = f"/v1/server-resource/{server_id}"
    for method, path, params in [("GET", item, None), ("PUT", item, None),
                                 ("GET", f"{item}/metrics", None),
                                 ("DELETE", "/v1/server-resource", {"id": server_id}),
                                 ("GET", f"/v1/service/{service.id}/server-resources", None)]:
        response = client.simulate_request(method, path, params=params, json={"name": "x"},
                                           headers=headers)
        assert response.status_code == 404, (method, path)
    assert create(client, cast, service, token=cast.charlie_token).status_code == 404
    assert Server.get_by_id(server_id).name == "db-1"


def test_without_a_token_every_server_endpoint_is_a_401(client, cast, service):
    server_id = create(client, cast, service).json["id"]
    for method, path in [("GET", f"/v1/server-resource/{server_id}"),
                         ("POST", "/v1/server-resource"),
                         ("GET", f"/v1/server-resource/{server_id}/metrics")]:
        assert client.simulate_request(method, path).status_code == 401


# -- metrics (73); the agent's end to end run is in tests/pinghome/test_agent.py ------------

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)


def _fill(server_id):
    """cpu every 20 s for 3 minutes from T0: 0, 1, 2 ... percent."""
    readings = [("cpu-total-usage", T0 + dt.timedelta(seconds=20 * n), {"percent": float(n)})
                for n in range(9)]
    readings.append(("memory-usage", T0, {"percent": 50.0, "used": 1.0, "total": 2.0}))
    reports.record_report(Server.get_by_id(server_id), readings, interval_seconds=20,
                          now=T0 + dt.timedelta(minutes=3))


def test_metrics_come_raw_newest_first_or_in_buckets(client, cast, service):
    server_id = create(client, cast, service).json["id"]
    _fill(server_id)
    path, headers = f"/v1/server-resource/{server_id}/metrics", bearer(cast.bob_token)
    span = {"start_date": "2026-03-02T10:00:00Z", "end_date": "2026-03-02T10:04:00Z"}
    raw = client.simulate_get(path, headers=headers, params={
        **span, "type": "cpu-total-usage", "interval": "on-demand", "limit": 3}).json
    assert list(raw["data"]) == ["cpu-total-usage"]
    assert raw["data"]["cpu-total-usage"] == [
        {"at": "2026-03-02T10:02:40Z", "values": {"percent": 8.0}},
        {"at": "2026-03-02T10:02:20Z", "values": {"percent": 7.0}},
        {"at": "2026-03-02T10:02:00Z", "values": {"percent": 6.0}}]
    minutes = client.simulate_get(path, headers=headers,
                                  params={**span, "interval": "minute"}).json["data"]
    assert set(minutes) == set(TYPES)
    assert minutes["cpu-total-usage"] == [
        {"at": "2026-03-02T10:00:00Z", "count": 3, "values": {"percent": {"avg": 1.0, "max": 2.0}}},
        {"at": "2026-03-02T10:01:00Z", "count": 3, "values": {"percent": {"avg": 4.0, "max": 5.0}}},
        {"at": "2026-03-02T10:02:00Z", "count": 3, "values": {"percent": {"avg": 7.0, "max": 8.0}}}]
    assert minutes["memory-usage"][0]["values"]["used"] == {"avg": 1.0, "max": 1.0}
    assert minutes["swap-usage"] == []
    hour = client.simulate_get(path, headers=headers, params={
        **span, "interval": "hour", "type": "cpu-total-usage"}).json["data"]["cpu-total-usage"]
    assert hour == [{"at": "2026-03-02T10:00:00Z", "count": 9,
                     "values": {"percent": {"avg": 4.0, "max": 8.0}}}]


@pytest.mark.parametrize("params, field", [
    ({"type": "gpu-usage"}, "type"),
    ({"interval": "fortnight"}, "interval"),
    ({"limit": 0}, "limit"),
    ({"limit": 5001}, "limit"),
    ({"start_date": "yesterday"}, "start_date"),
    ({"start_date": "2026-03-02T11:00:00Z", "end_date": "2026-03-02T10:00:00Z"}, "start_date"),
    ({"interval": "minute", "start_date": "2026-01-01T00:00:00Z",
      "end_date": "2026-03-01T00:00:00Z"}, "start_date"),
])
def test_a_bad_metrics_query_is_a_422(client, cast, service, params, field):
    server_id = create(client, cast, service).json["id"]
    response = client.simulate_get(f"/v1/server-resource/{server_id}/metrics", params=params,
                                   headers=bearer(cast.bob_token))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
