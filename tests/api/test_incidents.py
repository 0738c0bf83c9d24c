"""Endpoints 94-97 and the timeline: incidents opened by hand and by rules, listed with filters,
updated, acknowledged and resolved by members, invisible to other organisations."""
from __future__ import annotations

import pytest

from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast
from tests.factories.statuspages import first_setting, make_page

SEED = {"name": "Incident name", "description": "Incident description", "urgency": "medium"}


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


def open_incident(client, cast, token=None, **fields):
    # the seed's action, naming a component of a real page of the organisation
    actions = [{"type": "trigger-alerts", "settings": [first_setting(make_page(cast.alice))]}]
    body = {**SEED, "actions": actions, "assignees": [{"type": "team", "id": str(cast.team.id)}],
            **fields}
    return client.simulate_post(f"/v1/team/{cast.team.id}/incident", json=body,
                                headers=bearer(token or cast.alice_token))


def test_the_seeds_incident_is_opened_by_hand_and_listed(client, cast):
    response = open_incident(client, cast)
    assert response.status_code == 201, response.json
    incident = response.json
    assert (incident["status"], incident["source"], incident["urgency"]) == \
        ("triggered", "manual", "medium")
    assert incident["actions"][0]["id"] and incident["actions"][0]["settings"][0]["id"]
    listed = client.simulate_get(f"/v1/team/{cast.team.id}/incidents",
                                 headers=bearer(cast.bob_token)).json
    assert [i["id"] for i in listed["data"]] == [incident["id"]] and listed["total"] == 1
    actions = client.simulate_get(f"/v1/incident/{incident['id']}/actions",
                                  headers=bearer(cast.bob_token)).json["actions"]
    assert actions == incident["actions"]


def test_a_user_acknowledges_and_resolves_and_the_timeline_says_who(client, cast):
    incident = open_incident(client, cast).json
    path = f"/v1/incident/{incident['id']}"
    acknowledged = client.simulate_put(path, json={"status": "acknowledged"},
                                       headers=bearer(cast.bob_token))
    assert acknowledged.status_code == 200, acknowledged.json
    assert acknowledged.json["acknowledged_by"] == str(cast.bob.id)
    resolved = client.simulate_put(path, json={"status": "resolved", "urgency": "low"},
                                   headers=bearer(cast.bob_token)).json
    assert (resolved["status"], resolved["urgency"]) == ("resolved", "low")
    again = client.simulate_put(path, json={"status": "triggered"},
                                headers=bearer(cast.alice_token))
    assert again.status_code == 409 and again.json["error"]["code"] == "incident_status"
    steps = client.simulate_get(f"{path}/timeline", headers=bearer(cast.alice_token)).json
    moves = [s for s in steps["data"] if s["kind"] in ("opened", "acknowledged", "updated",
                                                        "resolved")]    # notices aside
    assert [s["kind"] for s in moves] == ["opened", "acknowledged", "updated", "resolved"]
    assert moves[1]["actor"] == str(cast.bob.id)


def test_incidents_are_filtered_by_status_and_urgency(client, cast):
    first = open_incident(client, cast, urgency="critical").json
    open_incident(client, cast, urgency="low")
    client.simulate_put(f"/v1/incident/{first['id']}", json={"status": "resolved"},
                        headers=bearer(cast.alice_token))
    path = f"/v1/team/{cast.team.id}/incidents"
    resolved = client.simulate_get(path, params={"status": "resolved"},
                                   headers=bearer(cast.alice_token)).json["data"]
    assert [i["id"] for i in resolved] == [first["id"]]
    urgent = client.simulate_get(path, params={"urgency": "low,medium"},
                                 headers=bearer(cast.alice_token)).json["data"]
    assert [i["urgency"] for i in urgent] == ["low"]
    later = client.simulate_get(path, params={"start_date": "2999-01-01T00:00:00Z"},
                                headers=bearer(cast.alice_token)).json
    assert later["data"] == [] and later["total"] == 0


def test_another_organisations_incidents_are_not_found(client, cast):
    incident = open_incident(client, cast).json
    path = f"/v1/incident/{incident['id']}"
    for suffix in ("", "/actions", "/timeline"):
        assert client.simulate_get(path + suffix,
                                   headers=bearer(cast.charlie_token)).status_code == 404
    assert client.simulate_put(path, json={"status": "resolved"},
                               headers=bearer(cast.charlie_token)).status_code == 404
    assert client.simulate_get(f"/v1/team/{cast.team.id}/incidents",
                               headers=bearer(cast.charlie_token)).status_code == 404
    assert open_incident(client, cast, token=cast.charlie_token).status_code == 404


@pytest.mark.parametrize("fields, field", [
    ({"name": ""}, "name"), ({"urgency": "soon"}, "urgency"),
    ({"assignees": [{"type": "team", "id": "not-an-id"}]}, "assignees.0.id"),
    ({"assignees": "everyone"}, "assignees"),
    ({"actions": [{"type": "page-the-ceo"}]}, "actions"),
])
def test_bad_incidents_are_refused_with_the_field_named(client, cast, fields, field):
    response = open_incident(client, cast, **fields)
    assert response.status_code == 422, response.json
    assert any(name.startswith(field) for name in response.json["error"]["fields"])


def test_bad_status_values_and_queries_are_refused(client, cast):
    incident = open_incident(client, cast).json
    bad = client.simulate_put(f"/v1/incident/{incident['id']}", json={"status": "closed"},
                              headers=bearer(cast.alice_token))
    assert bad.status_code == 422 and "status" in bad.json["error"]["fields"]
    query = client.simulate_get(f"/v1/team/{cast.team.id}/incidents",
                                params={"status": "gone"}, headers=bearer(cast.alice_token))
    assert query.status_code == 422
