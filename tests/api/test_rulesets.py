"""Endpoints 83-88: rulesets and their actions, with the permission cast and bad input."""
from __future__ import annotations

import pytest

from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast
from tests.factories.statuspages import make_page

CONDITION = {"values": ["10"], "operator": "equal", "type": "json-check",
             "key": "products[0].count"}


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


def create(client, token, **fields):
    return client.simulate_post("/v1/ruleset", json=fields, headers=bearer(token))


def seed_ruleset(cast, **fields):
    """The seed's own example body, in Alice's team."""
    return {"rule_type": "state-change", "conditions": [CONDITION], "level": "team",
            "team_id": str(cast.team.id), "name": "Name", "description": "Description",
            "urgency": "medium", "assignees": [{"type": "team", "id": str(cast.team.id)}],
            **fields}


def test_the_seeds_example_ruleset_is_created_and_listed(client, cast):
    response = create(client, cast.alice_token, **seed_ruleset(cast))
    assert response.status_code == 201, response.json
    ruleset = response.json
    assert (ruleset["rule_type"], ruleset["level"], ruleset["urgency"]) == \
        ("state-change", "team", "medium")
    assert ruleset["conditions"] == [{"type": "json", "key": "products[0].count",
                                      "operator": "equal", "values": ["10"]}]
    assert ruleset["assignees"] == [{"type": "team", "id": str(cast.team.id)}]
    listed = client.simulate_get("/v1/rulesets", headers=bearer(cast.bob_token)).json
    assert [r["id"] for r in listed["data"]] == [ruleset["id"]]


def test_a_user_reads_rulesets_but_cannot_change_them(client, cast):
    ruleset = create(client, cast.alice_token, **seed_ruleset(cast)).json
    path = f"/v1/ruleset/{ruleset['id']}"
    assert create(client, cast.bob_token, **seed_ruleset(cast)).status_code == 403
    assert client.simulate_put(path, json={"name": "Mine"},
                               headers=bearer(cast.bob_token)).status_code == 403
    assert client.simulate_delete(path, headers=bearer(cast.bob_token)).status_code == 403
    assert client.simulate_put(f"{path}/actions", json={"actions": []},
                               headers=bearer(cast.bob_token)).status_code == 403
    assert client.simulate_get(path, headers=bearer(cast.bob_token)).status_code == 200


def test_another_organisations_rulesets_are_not_found(client, cast):
    ruleset = create(client, cast.alice_token, **seed_ruleset(cast)).json
    path = f"/v1/ruleset/{ruleset['id']}"
    for method in ("GET", "DELETE"):
        response = client.simulate_request(method, path, headers=bearer(cast.charlie_token))
        assert response.status_code == 404, method
    assert client.simulate_put(path, json={"name": "x"},
                               headers=bearer(cast.charlie_token)).status_code == 404
    assert client.simulate_get(f"{path}/actions",
                               headers=bearer(cast.charlie_token)).status_code == 404
    assert client.simulate_get("/v1/rulesets",
                               headers=bearer(cast.charlie_token)).json["data"] == []
    assert create(client, cast.charlie_token, **seed_ruleset(cast)).status_code == 404


def test_updating_changes_the_given_fields_and_keeps_the_rest(client, cast):
    ruleset = create(client, cast.alice_token, **seed_ruleset(cast)).json
    response = client.simulate_put(f"/v1/ruleset/{ruleset['id']}",
                                   json={"urgency": "critical", "renotify_minutes": 30},
                                   headers=bearer(cast.alice_token))
    assert response.status_code == 200, response.json
    assert (response.json["urgency"], response.json["renotify_minutes"],
            response.json["name"]) == ("critical", 30, "Name")
    assert client.simulate_delete(f"/v1/ruleset/{ruleset['id']}",
                                  headers=bearer(cast.alice_token)).status_code == 200
    assert client.simulate_get(f"/v1/ruleset/{ruleset['id']}",
                               headers=bearer(cast.alice_token)).status_code == 404


def test_actions_are_replaced_and_new_ones_get_ids(client, cast):
    ruleset = create(client, cast.alice_token, **seed_ruleset(cast)).json
    path = f"/v1/ruleset/{ruleset['id']}/actions"
    page = make_page(cast.alice, components=[{"name": "A", "type": "manual"},
                                             {"name": "B", "type": "manual"}])
    first, second = (str(c.id) for c in page.components.order_by(page.components.model.position))
    body = {"actions": [{"type": "trigger-alerts", "settings": [
        {"status_page_id": str(page.id), "component_id": first}]}]}
    first = client.simulate_put(path, json=body, headers=bearer(cast.alice_token)).json
    [action] = first["actions"]
    assert action["id"] and action["settings"][0]["id"]
    kept = client.simulate_put(path, json={"actions": [{**action, "settings": []}, {
        "id": "", "type": "trigger-alerts", "settings": [{"id": "", "component_id": second}]}]},
        headers=bearer(cast.alice_token)).json["actions"]
    assert kept[0]["id"] == action["id"] and kept[0]["settings"] == []
    assert kept[1]["id"] and kept[1]["settings"][0]["component_id"] == second
    assert client.simulate_get(path, headers=bearer(cast.bob_token)).json["actions"] == kept


def test_an_organisation_ruleset_takes_an_owner(client, cast, settings):
    body = seed_ruleset(cast, level="organisation", team_id=None)
    assert create(client, cast.alice_token, **body).status_code == 201
    cast_with_manager = make_cast(settings, bob_role="manager")
    refused = create(client, cast_with_manager.bob_token,
                     **seed_ruleset(cast_with_manager, level="organisation", team_id=None))
    assert refused.status_code == 403


@pytest.mark.parametrize("fields, field", [
    ({"conditions": [{"type": "nope", "operator": "equal", "values": ["1"]}]}, "conditions.0"),
    ({"conditions": [{"type": "json-check", "key": "a", "operator": "near",
                      "values": ["1"]}]}, "conditions.0"),
    ({"conditions": "all"}, "conditions"),
    ({"rule_type": "sometimes"}, "rule_type"),
    ({"urgency": "whenever"}, "urgency"),
    ({"level": "team", "team_id": None}, "team_id"),
    ({"assignees": [{"type": "robot", "id": "1"}]}, "assignees.0.type"),
    ({"assignees": [{"type": "customer", "id": "00000000-0000-4000-8000-000000000000"}]},
     "assignees.0.id"),
    ({"assignees": [{"type": "ocs", "id": "1"}]}, "assignees.0.id"),   # no such schedule
    ({"webhook_ids": ["00000000-0000-4000-8000-000000000000"]}, "webhook_ids"),
    ({"dedup_key": "a..b"}, "dedup_key"),
    ({"priority": "first"}, "priority"),
    ({"name": ""}, "name"),
])
def test_bad_rulesets_are_refused_with_the_field_named(client, cast, fields, field):
    response = create(client, cast.alice_token, **seed_ruleset(cast, **fields))
    assert response.status_code == 422, response.json
    assert any(name.startswith(field) for name in response.json["error"]["fields"]), \
        response.json["error"]["fields"]


def test_a_webhook_ruleset_names_only_its_scopes_webhooks(client, cast):
    ours = client.simulate_post("/v1/webhook", json={"name": "Ours"},
                                headers=bearer(cast.alice_token)).json
    theirs = client.simulate_post("/v1/webhook", json={"name": "Theirs"},
                                  headers=bearer(cast.charlie_token)).json
    accepted = create(client, cast.alice_token, **seed_ruleset(
        cast, rule_type="webhook", conditions=[], webhook_ids=[ours["id"]]))
    assert accepted.status_code == 201 and accepted.json["webhook_ids"] == [ours["id"]]
    refused = create(client, cast.alice_token, **seed_ruleset(
        cast, rule_type="webhook", webhook_ids=[theirs["id"]]))
    assert refused.status_code == 422 and "webhook_ids.0" in refused.json["error"]["fields"]


def test_actions_must_name_components_of_the_organisations_pages(client, cast, settings):
    ruleset = create(client, cast.alice_token, **seed_ruleset(cast)).json
    mine, theirs = make_page(cast.alice), make_page(make_cast(settings).alice)
    [component] = mine.components
    [foreign] = theirs.components
    body = {"actions": [{"type": "trigger-alerts", "settings": [
        {"status_page_id": "445a5c1f-c0eb-403a-96d7-3976e5dc74ed", "component_id": "c1"},
        {"component_id": str(foreign.id)},
        {"status_page_id": str(theirs.id), "component_id": str(component.id)},
        {"status_page_id": str(mine.id), "component_id": str(component.id)}]}]}
    response = client.simulate_put(f"/v1/ruleset/{ruleset['id']}/actions", json=body,
                                   headers=bearer(cast.alice_token))
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {
        "actions.0.settings.0.component_id", "actions.0.settings.1.component_id",
        "actions.0.settings.2.status_page_id"}
