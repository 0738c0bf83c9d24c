"""OCS access and bad input: another organisation's ids are 404 on every endpoint and change
nothing; a `user` reads but does not write (403); bad layers, shifts and query values are clear
4xx answers naming the field, never a 500."""
from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.oncall.tables import OcsSchedule, OcsTier, OnDemandShift
from tests.factories.accounts import bearer, make_customer, sign_in
from tests.factories.oncall import contact_of, hour_floor, iso, make_schedule, seed_layer
from tests.factories.organisations import make_cast

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def world(client, settings):
    """Alice's schedule with a layer and an on-demand shift; Bob a `user`; Charlie outside."""
    cast = make_cast(settings, bob_role="user")
    alice = contact_of(cast.alice)
    schedule = make_schedule(client, cast.alice_token)
    client.simulate_patch(f"/api/ocs-tier/{schedule['tier_id']}/",
                          headers=bearer(cast.alice_token),
                          json={"layers": [seed_layer([alice])]})
    at = hour_floor(clock.now()) + 24 * HOUR
    shift = client.simulate_post("/api/ocs-on-demand/", headers=bearer(cast.alice_token), json={
        "start": iso(at), "end": iso(at + HOUR), "contact": alice, "tier": schedule["tier_id"],
        "sure": True}).json
    return cast, schedule, shift, alice, at


@pytest.fixture
def token(settings) -> str:
    """One member's token, for what needs no cast."""
    return sign_in(settings, make_customer(settings)).access_token


def snapshot():
    return {model.__name__: sorted(str(row) for row in model.select().tuples())
            for model in (OcsSchedule, OcsTier, OnDemandShift)}


def object_calls(schedule, shift, alice, at):
    ocs, tier = schedule["id"], schedule["tier_id"]
    layers = {"layers": [seed_layer([alice])], "on_demand": [], "dirty": True}
    new_shift = {"start": iso(at + 5 * HOUR), "end": iso(at + 6 * HOUR), "contact": alice,
                 "tier": tier, "sure": True}
    return [
        ("GET", f"/api/ocs/{ocs}/", None, None),
        ("PUT", f"/api/ocs/{ocs}/", {"name": "Mine now"}, None),
        ("DELETE", f"/api/ocs/{ocs}/", None, None),
        ("GET", f"/api/ocs/{ocs}/stats/", None, None),
        ("GET", f"/api/ocs-tier/{tier}/", None, None),
        ("GET", f"/api/ocs-tier/{ocs}_1/", None, None),
        ("PUT", f"/api/ocs-tier/{tier}/", {"number": 3, "layers": []}, None),
        ("PATCH", f"/api/ocs-tier/{tier}/", layers, None),
        ("PATCH", f"/api/ocs-tier/{ocs}_2/", layers, None),
        ("POST", f"/api/ocs-tier/{tier}/compute_tier/", {"layers": [], "on_demand": []}, None),
        ("POST", f"/api/ocs-tier/{ocs}_2/compute_tier/", {"layers": []}, None),
        ("GET", "/api/ocs-on-demand/", None, {"tier_id": tier}),
        ("GET", "/api/ocs-on-demand/count/", None, {"tier_id": tier}),
        ("POST", "/api/ocs-on-demand/", new_shift, None),
        ("GET", f"/api/ocs-on-demand/{shift['id']}/", None, None),
        ("PUT", f"/api/ocs-on-demand/{shift['id']}/", {"end": iso(at + 2 * HOUR)}, None),
        ("DELETE", f"/api/ocs-on-demand/{shift['id']}/", None, None),
    ]


def test_another_organisations_objects_are_not_found_and_stay_as_they_were(client, world):
    cast, schedule, shift, alice, at = world
    before = snapshot()
    for method, path, body, params in object_calls(schedule, shift, alice, at):
        response = client.simulate_request(method, path, json=body, params=params,
                                           headers=bearer(cast.charlie_token))
        assert response.status_code == 404, (method, path, response.json)
        assert response.json["error"]["code"] == "not_found", (method, path)
    assert snapshot() == before


def test_another_organisation_lists_and_counts_nothing_of_ours(client, world):
    cast, schedule, *_ = world
    token = bearer(cast.charlie_token)
    assert client.simulate_get("/api/ocs/", headers=token).json["results"] == []
    assert client.simulate_get("/api/ocs-tier/", headers=token).json["results"] == []
    assert client.simulate_get("/api/ocs-tier/", params={"ocs": schedule["id"]},
                               headers=token).json["results"] == []
    for path in ("/api/ocs/count/", "/api/ocs-tier/count/", "/api/ocs-on-demand/count/"):
        assert client.simulate_get(path, headers=token).json == {"count": 0}, path
    contacts = client.simulate_get("/api/contacts/", headers=token).json["results"]
    assert [c["customer"] for c in contacts] == [str(cast.charlie.id)]


def test_a_user_reads_everything_and_changes_nothing(client, world):
    cast, schedule, shift, alice, at = world
    before = snapshot()
    token = bearer(cast.bob_token)
    refused = client.simulate_post("/api/ocs/", json={"name": "Mine"}, headers=token)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "role_required"
    for method, path, body, params in object_calls(schedule, shift, alice, at):
        response = client.simulate_request(method, path, json=body, params=params,
                                           headers=token)
        reads = method == "GET" or path.endswith("compute_tier/")
        assert response.status_code == (200 if reads else 403), (method, path, response.json)
    assert snapshot() == before


LAYER_PROBLEMS = [
    ({"rotation": "{\"type\":daily}"}, "layers.0.rotation"),
    ({"rotation": "{\"type\":\"hourly\"}"}, "layers.0.rotation.type"),
    ({"rotation": {"type": "custom"}}, "layers.0.rotation.seconds"),
    ({"rotation": {"type": "custom", "seconds": 10}}, "layers.0.rotation.seconds"),
    ({"rotation": None}, "layers.0.rotation"),
    ({"restrictions": "nul"}, "layers.0.restrictions"),
    ({"restrictions": "{\"type\":\"monthly\",\"ranges\":[]}"}, "layers.0.restrictions.type"),
    ({"restrictions": {"type": "weekly", "ranges": [
        {"start_time_of_day": "09:00:00", "duration_seconds": 3600}]}},
     "layers.0.restrictions.ranges.0.start_day_of_week"),
    ({"restrictions": {"type": "daily", "ranges": [
        {"start_time_of_day": "9 am", "duration_seconds": 90000}]}},
     "layers.0.restrictions.ranges.0.start_time_of_day"),
    ({"tz": "Mars/Olympus_Mons"}, "layers.0.tz"),
    ({"tz": "../../../etc/passwd"}, "layers.0.tz"),
    ({"start": "yesterday"}, "layers.0.start"),
    ({"start": "0001-01-01T00:00:00Z"}, "layers.0.start"),
    ({"contacts": []}, "layers.0.contacts"),
    ({"contacts": ["alice"]}, "layers.0.contacts.0"),
    ({"contacts": [999999]}, "layers.0.contacts.0"),
    ({"contacts": [2**70]}, "layers.0.contacts.0"),
    ({"index": "0"}, "layers.0.index"),
]


@pytest.mark.parametrize("fields, field", LAYER_PROBLEMS)
@pytest.mark.parametrize("method", ["PATCH", "COMPUTE", "PUT"])
def test_bad_layers_are_refused_naming_the_field(client, settings, method, fields, field):
    alice = make_customer(settings)
    token = sign_in(settings, alice).access_token
    schedule = make_schedule(client, token)
    body = {"layers": [{**seed_layer([contact_of(alice)]), **fields}], "on_demand": []}
    path = f"/api/ocs-tier/{schedule['tier_id']}/"
    if method == "COMPUTE":
        response = client.simulate_post(path + "compute_tier/", json=body, headers=bearer(token))
    else:
        response = client.simulate_request(method, path, json=body, headers=bearer(token))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json["error"]["fields"]
    assert OcsTier.get_by_id(schedule["tier_id"]).layers == []


def test_another_organisations_contact_in_a_layer_is_unknown(client, world):
    cast, schedule, *_ = world
    response = client.simulate_patch(
        f"/api/ocs-tier/{schedule['tier_id']}/", headers=bearer(cast.alice_token),
        json={"layers": [seed_layer([contact_of(cast.alice), contact_of(cast.charlie)])]})
    assert response.status_code == 422
    assert response.json["error"]["fields"] == {"layers.0.contacts.1": "no such contact here"}


def test_two_layers_may_not_share_an_index(client, world):
    cast, schedule, _, alice, _ = world
    response = client.simulate_patch(f"/api/ocs-tier/{schedule['tier_id']}/",
                                     headers=bearer(cast.alice_token),
                                     json={"layers": [seed_layer([alice]), seed_layer([alice])]})
    assert response.status_code == 422 and "layers.1.index" in response.json["error"]["fields"]


@pytest.mark.parametrize("params, field", [
    ({"since": "2026-13-45"}, "since"),
    ({"since": "2025-01-02T00:00:00Z", "until": "2025-01-01T00:00:00Z"}, "until"),
    ({"since": "2025-01-01T00:00:00Z", "until": "2026-06-01T00:00:00Z"}, "until"),
    ({"since": "9999-12-31T23:59:59-01:00"}, "since"),
])
def test_a_bad_compute_window_is_refused(client, token, params, field):
    schedule = make_schedule(client, token)
    response = client.simulate_post(f"/api/ocs-tier/{schedule['tier_id']}/compute_tier/",
                                    json={"layers": []}, params=params, headers=bearer(token))
    assert response.status_code == 422 and field in response.json["error"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"),
    ({"name": "x", "customer": "not-a-uuid"}, "customer"),
    ({"name": "x", "customer": "00000000-0000-4000-8000-000000000000"}, "customer"),
    ({"name": "x", "default_email": "nope"}, "default_email"),
    ({"name": "x", "default_phone": "12"}, "default_phone"),
    ({"name": "x", "escalation_loops": 0}, "escalation_loops"),
])
def test_bad_schedules_are_refused_naming_the_field(client, token, body, field):
    response = client.simulate_post("/api/ocs/", json=body, headers=bearer(token))
    assert response.status_code == 422 and field in response.json["error"]["fields"]


@pytest.mark.parametrize("body", [{"name": None}, {"escalation_loops": None}, {"name": " "}])
def test_a_schedule_keeps_a_name_and_loops(client, world, body):
    cast, schedule, *_ = world
    response = client.simulate_put(f"/api/ocs/{schedule['id']}/", json=body,
                                   headers=bearer(cast.alice_token))
    assert response.status_code == 422 and set(body) <= set(response.json["error"]["fields"])


def test_a_schedule_cannot_be_for_another_organisations_customer(client, world):
    cast, schedule, *_ = world
    response = client.simulate_put(f"/api/ocs/{schedule['id']}/", headers=bearer(
        cast.alice_token), json={"customer": str(cast.charlie.id)})
    assert response.status_code == 422 and "customer" in response.json["error"]["fields"]


def test_a_tier_id_that_is_no_id_is_not_found(client, token):
    schedule = make_schedule(client, token)
    for tier_id in ["abc", "1_", "_1", "1_2_3", "0", "99999999999", "-1", f"{schedule['id']}_0",
                    f"{schedule['id']}_2", "1.0"]:
        for method in ("GET", "PUT"):
            response = client.simulate_request(method, f"/api/ocs-tier/{tier_id}/", json={},
                                               headers=bearer(token))
            assert response.status_code == 404, (method, tier_id)


def test_patch_creates_no_tier_past_20(client, token):
    schedule = make_schedule(client, token)
    response = client.simulate_patch(f"/api/ocs-tier/{schedule['id']}_21/", json={"layers": []},
                                     headers=bearer(token))
    assert response.status_code == 422 and OcsTier.select().count() == 1
