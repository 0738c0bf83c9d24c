"""Endpoints 40-43: services under a team."""
from __future__ import annotations

import uuid

import pytest

from models import services
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="manager")


def create(client, cast, token=None, **body):
    return client.simulate_post("/v1/service", json={"name": "Checkout", "team_id": str(cast.team.id),
                                                    **body},
                                headers=bearer(token or cast.alice_token))


def test_a_service_is_created_renamed_read_and_deleted(client, cast):
    created = create(client, cast)
    assert created.status_code == 201
    service_id = created.json["id"]
    assert created.json["team"] == {"id": str(cast.team.id), "name": cast.team.name}
    renamed = client.simulate_put(f"/v1/service/{service_id}", json={"name": "Payments"},
                                  headers=bearer(cast.bob_token))
    assert renamed.status_code == 200 and renamed.json["name"] == "Payments"
    details = client.simulate_get(f"/v1/team-service/{service_id}", headers=bearer(cast.bob_token))
    assert details.json["counts"] == {"monitors": 0, "heartbeats": 0, "server_monitors": 0}
    listed = client.simulate_get(f"/v1/team/{cast.team.id}/services",
                                 headers=bearer(cast.bob_token)).json
    assert [s["name"] for s in listed["data"]] == ["Payments"]
    assert client.simulate_delete(f"/v1/service/{service_id}",
                                  headers=bearer(cast.bob_token)).status_code == 200
    assert client.simulate_get(f"/v1/team-service/{service_id}",
                               headers=bearer(cast.bob_token)).status_code == 404


def test_users_read_services_but_do_not_change_them(client, settings):
    cast = make_cast(settings, bob_role="user")
    service_id = create(client, cast).json["id"]
    assert create(client, cast, cast.bob_token).status_code == 403
    assert client.simulate_get(f"/v1/team-service/{service_id}",
                               headers=bearer(cast.bob_token)).status_code == 200
    assert client.simulate_put(f"/v1/service/{service_id}", json={"name": "x"},
                               headers=bearer(cast.bob_token)).status_code == 403
    assert client.simulate_delete(f"/v1/service/{service_id}",
                                  headers=bearer(cast.bob_token)).status_code == 403


@pytest.mark.parametrize("body, field", [({"name": ""}, "name"), ({"team_id": "x"}, "team_id"),
                                         ({"name": 1}, "name")])
def test_a_service_is_validated(client, cast, body, field):
    response = create(client, cast, **body)
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_a_service_under_an_unknown_team_is_not_found(client, cast):
    assert create(client, cast, team_id=str(uuid.uuid4())).status_code == 404


def test_deleting_a_service_retires_what_it_keeps(client, cast):
    retired = []
    services.register_retirer(lambda service, now: retired.append(service.id))
    try:
        service_id = create(client, cast).json["id"]
        client.simulate_delete(f"/v1/service/{service_id}", headers=bearer(cast.alice_token))
    finally:
        services._retirers.pop()
    assert [str(r) for r in retired] == [service_id]


def test_plan_limits_are_served_by_plan_and_version(client, cast):
    response = client.simulate_get("/v1/plan/team/v1/limits", headers=bearer(cast.alice_token))
    assert response.status_code == 200
    modules = {m["module"]: {limit["key"]: limit for limit in m["limits"]}
               for m in response.json["modules"]}
    assert set(modules) == {"team", "monitoring", "statuspage"}
    assert modules["monitoring"]["uptime_monitors"]["value"] == 500
    assert modules["monitoring"]["min_interval_seconds"]["unit"] == "seconds"
    assert response.json["over"] is None                  # not the caller's plan
    assert client.simulate_get("/v1/plan/gold/v9/limits",
                               headers=bearer(cast.alice_token)).status_code == 404
