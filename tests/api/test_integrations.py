"""Endpoints 64-67: a monitor's Statuspage integrations through the API."""
from __future__ import annotations

import uuid

import pytest

from models.integrations import MonitorIntegration
from tests.factories.accounts import bearer
from tests.factories.monitors import make_monitor
from tests.factories.organisations import make_cast, make_service

KEY = "sp-api-key-never-answered"
SEED = {"name": "Incident name", "status": "investigating", "integration": "r276xxt51c23",
        "type": "statuspageIo", "items": ["ggs24084vt79"]}


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


@pytest.fixture
def monitor(cast):
    return make_monitor(make_service(cast.team))


def path(monitor, integration=None):
    base = f"/v1/resource/{monitor.id}"
    return f"{base}/integrations" if integration is False else (
        f"{base}/integration" + (f"/{integration}" if integration else ""))


def create(client, cast, monitor, token=None, **fields):
    return client.simulate_post(path(monitor), json={**SEED, "api_key": KEY, **fields},
                                headers=bearer(token or cast.alice_token))


def test_an_integration_is_created_listed_updated_and_deleted(client, cast, monitor):
    response = create(client, cast, monitor)
    assert response.status_code == 201
    created = response.json
    assert (created["type"], created["integration"], created["items"], created["status"]) == (
        "statuspageIo", "r276xxt51c23", ["ggs24084vt79"], "investigating")
    assert created["resource_id"] == str(monitor.id) and created["has_api_key"] is True

    listed = client.simulate_get(path(monitor, False), headers=bearer(cast.bob_token)).json
    assert [i["id"] for i in listed["data"]] == [created["id"]] and listed["total"] == 1

    updated = client.simulate_put(path(monitor, created["id"]), headers=bearer(cast.alice_token),
                                  json={"name": "Shop down", "status": "identified",
                                        "message": "Integration message", "items": ["a1", "b2"]})
    assert updated.status_code == 200
    assert (updated.json["message"], updated.json["name"], updated.json["status"],
            updated.json["items"], updated.json["integration"], updated.json["type"]) == (
        "Integration message", "Shop down", "identified", ["a1", "b2"], "r276xxt51c23",
        "statuspageIo")
    sealed = MonitorIntegration.get().sealed_api_key      # a PUT without a key keeps it

    deleted = client.simulate_delete(path(monitor, created["id"]),
                                     headers=bearer(cast.alice_token))
    assert deleted.status_code == 200 and sealed
    assert client.simulate_get(path(monitor, False),
                               headers=bearer(cast.alice_token)).json["total"] == 0
    assert client.simulate_delete(path(monitor, created["id"]),
                                  headers=bearer(cast.alice_token)).status_code == 404


def test_the_api_key_never_appears_in_any_answer(client, cast, monitor):
    created = create(client, cast, monitor)
    answers = [created,
               client.simulate_get(path(monitor, False), headers=bearer(cast.alice_token)),
               client.simulate_get(path(monitor, created.json["id"]),
                                   headers=bearer(cast.alice_token)),
               client.simulate_put(path(monitor, created.json["id"]),
                                   headers=bearer(cast.alice_token), json={"api_key": "k2-new"})]
    for answer in answers:
        assert KEY not in answer.text and "k2-new" not in answer.text
        assert '"api_key"' not in answer.text and "sealed" not in answer.text
    assert KEY not in MonitorIntegration.get().sealed_api_key


def test_a_user_reads_but_does_not_write(client, cast, monitor):
    created = create(client, cast, monitor).json
    assert create(client, cast, monitor, token=cast.bob_token).status_code == 403
    headers = bearer(cast.bob_token)
    assert client.simulate_put(path(monitor, created["id"]), headers=headers,
                               json={"name": "x"}).status_code == 403
    assert client.simulate_delete(path(monitor, created["id"]), headers=headers).status_code == 403
    assert client.simulate_get(path(monitor, created["id"]), headers=headers).status_code == 200


def test_another_organisations_monitor_or_integration_is_not_found(client, cast, monitor,
                                                                   settings):
    created = create(client, cast, monitor).json
    headers = bearer(cast.charlie_token)
    assert client.simulate_get(path(monitor, False), headers=headers).status_code == 404
    assert create(client, cast, monitor, token=cast.charlie_token).status_code == 404
    for call in (client.simulate_get, client.simulate_delete):
        assert call(path(monitor, created["id"]), headers=headers).status_code == 404
    assert client.simulate_put(path(monitor, created["id"]), headers=headers,
                               json={"name": "x"}).status_code == 404
    # an integration of one monitor is not found under another monitor of the same team
    other = make_monitor(make_service(cast.team))
    assert client.simulate_get(path(other, created["id"]),
                               headers=bearer(cast.alice_token)).status_code == 404
    assert client.simulate_get(path(monitor, uuid.uuid4()),
                               headers=bearer(cast.alice_token)).status_code == 404
    assert client.simulate_get(path(monitor, "nh29bqqsj2fv"),
                               headers=bearer(cast.alice_token)).status_code == 404


@pytest.mark.parametrize("fields, bad", [
    ({"type": "pagerduty"}, "type"),
    ({"type": None}, "type"),
    ({"status": "Incident status"}, "status"),
    ({"items": []}, "items"),
    ({"items": "ggs24084vt79"}, "items"),
    ({"items": ["has space"]}, "items.0"),
    ({"items": [1]}, "items.0"),
    ({"integration": ""}, "integration"),
    ({"integration": "x" * 65}, "integration"),
    ({"integration": "../../admin"}, "integration"),
    ({"api_key": ""}, "api_key"),
    ({"api_key": "a key with spaces"}, "api_key"),
    ({"name": "x" * 201}, "name"),
    ({"message": "x" * 10_001}, "message"),
])
def test_a_bad_body_is_refused_with_422(client, cast, monitor, fields, bad):
    response = create(client, cast, monitor, **fields)
    assert response.status_code == 422
    assert bad in response.json["error"]["fields"]


def test_the_api_key_is_required_on_create(client, cast, monitor):
    response = client.simulate_post(path(monitor), json=SEED, headers=bearer(cast.alice_token))
    assert response.status_code == 422 and "api_key" in response.json["error"]["fields"]


def test_a_bad_update_is_refused_with_422(client, cast, monitor):
    created = create(client, cast, monitor).json
    response = client.simulate_put(path(monitor, created["id"]), headers=bearer(cast.alice_token),
                                   json={"items": [], "type": "other"})
    assert response.status_code == 422
    assert {"items", "type"} <= set(response.json["error"]["fields"])


def test_integrations_need_a_token(client, monitor):
    assert client.simulate_get(path(monitor, False)).status_code == 401


def test_deleting_the_monitor_deletes_its_integrations(client, cast, monitor):
    create(client, cast, monitor)
    assert client.simulate_delete(f"/v1/resource/{monitor.id}",
                                  headers=bearer(cast.alice_token)).status_code == 200
    assert MonitorIntegration.select().count() == 0


# -- `pinghome`: one of our own pages' components -------------------------------------------

def own_page(cast, **fields):
    from tests.factories.statuspages import make_page
    return make_page(cast.alice, components=[{"name": "Shop", "type": "manual"},
                                             {"name": "Search", "type": "manual"}], **fields)


def pinghome_fields(page, *components):
    ids = [str(c.id) for c in page.components.order_by(page.components.model.position)]
    return {"type": "pinghome", "integration": str(page.id),
            "items": list(components) or ids[:1]}


def shown(client, cast, page) -> list[str]:
    found = client.simulate_get(f"/v1/statuspage/{page.id}/components",
                                headers=bearer(cast.bob_token)).json
    return [c["status"] for c in found["data"]]


def test_a_pinghome_integration_moves_the_components_it_names_with_the_monitor(
        client, cast, monitor):
    from models.monitors.tables import Monitor
    from tests.api.test_status_pages import go_down
    page = own_page(cast)
    response = client.simulate_post(path(monitor), json=pinghome_fields(page),
                                    headers=bearer(cast.alice_token))
    assert response.status_code == 201, response.json
    assert response.json["type"] == "pinghome" and response.json["has_api_key"] is False
    assert shown(client, cast, page) == ["operational", "operational"]
    go_down(monitor)
    assert shown(client, cast, page) == ["major_outage", "operational"]
    Monitor.update(status="up").where(Monitor.id == monitor.id).execute()
    assert shown(client, cast, page) == ["operational", "operational"]


def test_a_pinghome_integration_names_the_organisations_page_and_its_components(
        client, cast, monitor, settings):
    page = own_page(cast)
    other = own_page(make_cast(settings))
    elsewhere = own_page(cast)
    foreign_component = str(elsewhere.components.get().id)
    for fields, bad in [(pinghome_fields(other), "integration"),
                        ({**pinghome_fields(page), "integration": str(uuid.uuid4())},
                         "integration"),
                        ({**pinghome_fields(page), "integration": "not-a-uuid"}, "integration"),
                        (pinghome_fields(page, foreign_component), "items"),
                        (pinghome_fields(page, "ggs24084vt79"), "items")]:
        response = client.simulate_post(path(monitor), json=fields,
                                        headers=bearer(cast.alice_token))
        assert response.status_code == 422, (fields, response.json)
        assert bad in response.json["error"]["fields"]
    created = client.simulate_post(path(monitor), json=pinghome_fields(page),
                                   headers=bearer(cast.alice_token)).json
    response = client.simulate_put(path(monitor, created["id"]), headers=bearer(cast.alice_token),
                                   json={"items": [foreign_component]})
    assert response.status_code == 422 and "items" in response.json["error"]["fields"]
    response = client.simulate_put(path(monitor, created["id"]), headers=bearer(cast.alice_token),
                                   json={"type": "statuspageIo"})       # and no key given
    assert response.status_code == 422 and "api_key" in response.json["error"]["fields"]
