"""OCS endpoints 126-127, 134-142, 144 and `GET /api/contacts/`: the seed's envelopes
(`results`/`next_page`, `count`, the bare `1`), trailing slashes, tiers made by a schedule and
by `PATCH {ocs}_{n}`, compute_tier on the seed's own body, and `ocs` incident assignees."""
from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.incidents.tables import IncidentStep
from models.oncall.tables import OcsSchedule, OcsTier, OnDemandShift
from tests.conftest import drain
from tests.factories.accounts import bearer
from tests.factories.oncall import contact_of, iso, make_schedule, parse, seed_layer
from tests.factories.organisations import make_cast

DAY = dt.timedelta(days=1)


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


def get(client, path, token, **params):
    return client.simulate_get(path, params=params or None, headers=bearer(token))


def test_contacts_are_the_organisations_members_with_integer_ids(client, cast):
    listed = get(client, "/api/contacts/", cast.bob_token).json
    assert listed["next_page"] is None
    assert [(c["name"], c["customer"]) for c in listed["results"]] == [
        ("Alice", str(cast.alice.id)), ("Bob", str(cast.bob.id))]
    assert all(isinstance(c["id"], int) and c["phone"] is None for c in listed["results"])
    again = get(client, "/api/contacts/", cast.alice_token).json["results"]
    assert [c["id"] for c in again] == [c["id"] for c in listed["results"]]    # made once
    theirs = get(client, "/api/contacts/", cast.charlie_token).json["results"]
    assert [c["customer"] for c in theirs] == [str(cast.charlie.id)]
    paged = get(client, "/api/contacts/", cast.alice_token, limit=1).json
    assert len(paged["results"]) == 1 and paged["next_page"] == 2


def test_a_schedule_is_created_with_tier_1_listed_counted_and_read(client, cast):
    response = client.simulate_post("/api/ocs/", headers=bearer(cast.alice_token), json={
        "customer": str(cast.bob.id), "name": "Primary", "default_email": "ops@example.com",
        "default_phone": None})
    assert response.status_code == 201, response.json
    schedule = response.json
    assert isinstance(schedule["id"], int)
    assert {k: schedule[k] for k in ("customer", "customer_name", "name", "default_email",
                                     "default_phone", "escalation_loops")} == {
        "customer": str(cast.bob.id), "customer_name": "Bob Liddell", "name": "Primary",
        "default_email": "ops@example.com", "default_phone": None, "escalation_loops": 2}
    assert get(client, "/api/ocs/", cast.bob_token).json == {
        "results": [schedule], "next_page": None}
    assert get(client, "/api/ocs/count/", cast.bob_token).json == {"count": 1}
    tiers = get(client, "/api/ocs-tier/", cast.bob_token, ocs=schedule["id"]).json
    assert [(t["number"], t["ocs"], t["layers"]) for t in tiers["results"]] == [
        (1, schedule["id"], [])] and tiers["next_page"] is None
    detail = get(client, f"/api/ocs/{schedule['id']}/", cast.bob_token).json
    assert detail["user"]["username"] == cast.alice.email
    assert detail["updated_by"]["username"] == cast.alice.email
    assert detail["schedules"] == [[[], [], []]] and detail["contacts"] == []
    assert [t["number"] for t in detail["tiers"]] == [1]


def test_the_customer_defaults_to_the_caller_and_a_phone_is_normalised(client, cast):
    schedule = make_schedule(client, cast.alice_token, default_phone=994551234567)
    assert schedule["customer"] == str(cast.alice.id)
    assert schedule["default_phone"] == "+994551234567"


def test_updating_a_schedule_changes_the_given_fields_and_who_changed_it(client, settings):
    cast = make_cast(settings, bob_role="manager")
    schedule = make_schedule(client, cast.alice_token, default_email="a@example.com")
    response = client.simulate_put(f"/api/ocs/{schedule['id']}/", headers=bearer(cast.bob_token),
                                   json={"name": "Renamed", "default_phone": None,
                                         "escalation_loops": 3})
    assert response.status_code == 200, response.json
    assert (response.json["name"], response.json["default_email"],
            response.json["escalation_loops"]) == ("Renamed", "a@example.com", 3)
    detail = get(client, f"/api/ocs/{schedule['id']}/", cast.alice_token).json
    assert (detail["user"]["username"], detail["updated_by"]["username"]) == (
        cast.alice.email, cast.bob.email)


def test_deleting_a_schedule_answers_1_and_takes_its_tiers_and_shifts(client, cast):
    alice = contact_of(cast.alice)
    schedule = make_schedule(client, cast.alice_token)
    now = clock.now()
    assert client.simulate_post("/api/ocs-on-demand/", headers=bearer(cast.alice_token), json={
        "start": iso(now + DAY), "end": iso(now + 2 * DAY), "contact": alice,
        "tier": schedule["tier_id"]}).status_code == 201
    response = client.simulate_delete(f"/api/ocs/{schedule['id']}/",
                                      headers=bearer(cast.alice_token))
    assert response.status_code == 200 and response.text == "1" and response.json == 1
    assert (OcsSchedule.select().count(), OcsTier.select().count(),
            OnDemandShift.select().count()) == (0, 0, 0)
    assert get(client, f"/api/ocs/{schedule['id']}/", cast.alice_token).status_code == 404
    assert get(client, "/api/ocs/count/", cast.alice_token).json == {"count": 0}


def test_paths_keep_their_trailing_slashes_and_count_wins_over_an_id(client, cast):
    make_schedule(client, cast.alice_token)
    for path in ("/api/ocs/count/", "/api/ocs-tier/count/", "/api/ocs-on-demand/count/"):
        response = get(client, path, cast.alice_token)
        assert response.status_code == 200 and set(response.json) == {"count"}, path
    assert get(client, "/api/ocs-tier/count/", cast.alice_token).json == {"count": 1}
    assert get(client, "/api/ocs", cast.alice_token).status_code == 404
    assert get(client, "/api/ocs/abc/", cast.alice_token).status_code == 404
    assert client.simulate_get("/api/ocs/").status_code == 401


def test_patch_with_ocs_and_number_creates_tier_2_and_then_changes_it(client, cast):
    alice, bob = contact_of(cast.alice), contact_of(cast.bob)
    schedule = make_schedule(client, cast.alice_token)
    body = {"on_demand": [], "layers": [seed_layer([alice])], "dirty": True}
    path = f"/api/ocs-tier/{schedule['id']}_2/"
    created = client.simulate_patch(path, json=body, headers=bearer(cast.alice_token))
    assert created.status_code == 200, created.json
    assert (created.json["number"], created.json["ocs"]) == (2, schedule["id"])
    assert created.json["layers"] == [seed_layer([alice])]          # as they came
    again = client.simulate_patch(path, headers=bearer(cast.alice_token), json={
        **body, "layers": [seed_layer([bob], rotation={"type": "weekly"})]})
    assert again.json["id"] == created.json["id"]
    assert again.json["layers"][0]["rotation"] == {"type": "weekly"}
    by_id = client.simulate_patch(f"/api/ocs-tier/{created.json['id']}/",
                                  headers=bearer(cast.alice_token), json={"dirty": False})
    assert by_id.status_code == 200 and by_id.json["layers"] == again.json["layers"]
    tiers = get(client, "/api/ocs-tier/", cast.alice_token, ocs=schedule["id"]).json["results"]
    assert [t["number"] for t in tiers] == [1, 2]
    assert get(client, "/api/ocs-tier/count/", cast.alice_token,
               ocs=schedule["id"]).json == {"count": 2}


def test_a_tier_answers_its_contacts_and_who_is_on_call_now_and_next(client, cast):
    alice, bob = contact_of(cast.alice), contact_of(cast.bob)
    schedule = make_schedule(client, cast.alice_token)
    start = clock.now().replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    layer = seed_layer([alice, bob], start=iso(start), tz="UTC")
    assert client.simulate_put(f"/api/ocs-tier/{schedule['tier_id']}/",
                               headers=bearer(cast.alice_token),
                               json={"layers": [layer]}).status_code == 200
    tier = get(client, f"/api/ocs-tier/{schedule['tier_id']}/", cast.bob_token).json
    assert (tier["id"], tier["number"], tier["ocs"], tier["ocs_name"]) == (
        schedule["tier_id"], 1, schedule["id"], schedule["name"])
    assert tier["layers"] == [layer] and tier["created_at"].endswith("Z")
    assert sorted(c["id"] for c in tier["contacts"]) == sorted([alice, bob])
    assert tier["active"] is True
    assert tier["on_call_now"] == {"contact": alice, "until": iso(start + DAY)}
    assert tier["next_contact"] == {"contact": bob, "from": iso(start + DAY)}
    composite = get(client, f"/api/ocs-tier/{schedule['id']}_1/", cast.bob_token).json
    assert composite["id"] == schedule["tier_id"]
    empty = make_schedule(client, cast.alice_token)
    idle = get(client, f"/api/ocs-tier/{empty['tier_id']}/", cast.bob_token).json
    assert (idle["active"], idle["on_call_now"], idle["next_contact"]) == (False, None, None)


def test_put_renumbers_moves_and_refuses_a_taken_number(client, cast):
    first, second = make_schedule(client, cast.alice_token), make_schedule(client,
                                                                          cast.alice_token)
    path = f"/api/ocs-tier/{first['tier_id']}/"
    taken = client.simulate_put(path, json={"ocs": second["id"]},
                                headers=bearer(cast.alice_token))
    assert taken.status_code == 409 and "number" in taken.json["error"]["fields"]
    moved = client.simulate_put(path, json={"number": 2, "ocs": second["id"], "layers": []},
                                headers=bearer(cast.alice_token))
    assert moved.status_code == 200, moved.json
    assert (moved.json["id"], moved.json["number"], moved.json["ocs"], moved.json["layers"]) \
        == (first["tier_id"], 2, second["id"], [])
    assert get(client, "/api/ocs-tier/", cast.alice_token,
               ocs=first["id"]).json["results"] == []


def test_compute_tier_answers_the_seeds_shape_for_the_seeds_own_body(client, cast):
    alice = contact_of(cast.alice)
    schedule = make_schedule(client, cast.alice_token)
    body = {"on_demand": [], "layers": [seed_layer([alice])], "dirty": True}
    before = clock.now().replace(microsecond=0)
    response = client.simulate_post(f"/api/ocs-tier/{schedule['tier_id']}/compute_tier/",
                                    json=body, headers=bearer(cast.bob_token))
    assert response.status_code == 200, response.json
    final, layers, on_demand = response.json
    [shift] = final
    assert set(shift) == {"s", "e", "c", "i"} and (shift["c"], shift["i"]) == (alice, 0)
    since = parse(shift["s"])
    assert before <= since <= clock.now() and parse(shift["e"]) - since == 60 * DAY
    assert layers == [[{"c": alice, "s": "2024-11-05T13:00:00Z", "e": shift["e"], "o": None}]]
    assert on_demand == []
    assert OcsTier.get_by_id(schedule["tier_id"]).layers == []       # nothing stored


def test_compute_tier_takes_a_window_and_posted_on_demand_shifts(client, cast):
    alice, bob = contact_of(cast.alice), contact_of(cast.bob)
    schedule = make_schedule(client, cast.alice_token)
    body = {"layers": [seed_layer([alice], start="2025-01-01T00:00:00Z", tz="UTC")],
            "on_demand": [{"start": "2025-01-02T08:00:00Z", "end": "2025-01-02T16:00:00Z",
                           "contact": bob, "id": 41}]}
    response = client.simulate_post(
        f"/api/ocs-tier/{schedule['id']}_3/compute_tier/", json=body,
        params={"since": "2025-01-02T00:00:00Z", "until": "2025-01-03T00:00:00Z"},
        headers=bearer(cast.alice_token))
    assert response.status_code == 200, response.json
    final, layers, on_demand = response.json
    assert final == [
        {"s": "2025-01-02T00:00:00Z", "e": "2025-01-02T08:00:00Z", "c": alice, "i": 0},
        {"s": "2025-01-02T08:00:00Z", "e": "2025-01-02T16:00:00Z", "c": bob, "i": None, "o": 41},
        {"s": "2025-01-02T16:00:00Z", "e": "2025-01-03T00:00:00Z", "c": alice, "i": 0}]
    assert [piece["o"] for piece in layers[0]] == [None, 41, None]
    assert on_demand == [{"s": "2025-01-02T08:00:00Z", "e": "2025-01-02T16:00:00Z", "c": bob,
                          "i": 41}]


def test_a_schedule_answers_each_tiers_shifts_with_their_contacts(client, cast):
    alice = contact_of(cast.alice)
    schedule = make_schedule(client, cast.alice_token)
    client.simulate_patch(f"/api/ocs-tier/{schedule['tier_id']}/", headers=bearer(
        cast.alice_token), json={"layers": [seed_layer([alice])]})
    detail = get(client, f"/api/ocs/{schedule['id']}/", cast.bob_token).json
    [[final, layers, on_demand]] = detail["schedules"]
    assert [(s["c"], s["contact"]["name"]) for s in final] == [(alice, "Alice")]
    assert layers[0][0]["contact"]["email"] == cast.alice.email and on_demand == []
    assert [c["id"] for c in detail["contacts"]] == [alice]


def test_a_ruleset_may_assign_an_ocs_schedule_of_its_organisation(client, cast):
    ours = make_schedule(client, cast.alice_token)
    theirs = make_schedule(client, cast.charlie_token)
    body = {"rule_type": "state-change", "level": "team", "team_id": str(cast.team.id),
            "name": "On call", "urgency": "high", "assignees": [{"type": "ocs", "id": ours["id"]}]}
    created = client.simulate_post("/v1/ruleset", json=body, headers=bearer(cast.alice_token))
    assert created.status_code == 201, created.json
    assert created.json["assignees"] == [{"type": "ocs", "id": ours["id"]}]
    for wrong in (theirs["id"], "abc", 0, True):
        refused = client.simulate_post("/v1/ruleset", headers=bearer(cast.alice_token), json={
            **body, "assignees": [{"type": "ocs", "id": wrong}]})
        assert refused.status_code == 422, wrong
        assert any(name.startswith("assignees.0.id")
                   for name in refused.json["error"]["fields"]), refused.json


def test_an_incident_assigned_to_an_ocs_schedule_runs_its_first_step_without_error(
        client, cast, broker):
    schedule = make_schedule(client, cast.alice_token)
    opened = client.simulate_post(f"/v1/team/{cast.team.id}/incident", headers=bearer(
        cast.alice_token), json={"name": "Disk full", "urgency": "high",
                                 "assignees": [{"type": "ocs", "id": schedule["id"]}]})
    assert opened.status_code == 201, opened.json
    assert opened.json["assignees"] == [{"type": "ocs", "id": schedule["id"]}]
    drain(broker)                      # raises if the step's job failed
    steps = {step.key: step for step in
             IncidentStep.select().where(IncidentStep.incident == opened.json["id"])}
    assert steps[f"ocs:{schedule['id']}"].done_at is not None
    assert steps[f"ocs:{schedule['id']}:2:1"].done_at is None     # its second round, later
