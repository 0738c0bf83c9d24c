"""OCS on-demand shifts (128-133) with `sure`, a tier PATCH's `on_demand`, and a schedule's
statistics (143): ordering and paging."""
from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.oncall.tables import OnDemandShift
from tests.factories.accounts import bearer
from tests.factories.oncall import contact_of, hour_floor, iso, make_schedule, seed_layer
from tests.factories.organisations import make_cast

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


@pytest.fixture
def tier(client, cast):
    """Alice's schedule's tier 1 (no layers), with the cast's contact ids."""
    schedule = make_schedule(client, cast.alice_token)
    return {"id": schedule["tier_id"], "ocs": schedule["id"], "alice": contact_of(cast.alice),
            "bob": contact_of(cast.bob), "at": hour_floor(clock.now()) + 2 * DAY}


def post(client, token, tier, start, end, contact, **fields):
    return client.simulate_post("/api/ocs-on-demand/", headers=bearer(token), json={
        "start": iso(start), "end": iso(end), "contact": contact, "tier": tier["id"], **fields})


def stored(tier) -> list[tuple]:
    return [(row.contact_id, row.start_at, row.end_at) for row in OnDemandShift.select()
            .where(OnDemandShift.tier == tier["id"]).order_by(OnDemandShift.start_at)]


def test_a_shift_is_created_read_listed_updated_counted_and_deleted(client, cast, tier):
    at = tier["at"]
    created = post(client, cast.alice_token, tier, at, at + 8 * HOUR, tier["bob"])
    assert created.status_code == 201, created.json
    shift = created.json
    assert shift == {"id": shift["id"], "tier": tier["id"], "start": iso(at),
                     "end": iso(at + 8 * HOUR), "contact": tier["bob"], "sure": False}
    path = f"/api/ocs-on-demand/{shift['id']}/"
    read = client.simulate_get(path, headers=bearer(cast.bob_token)).json
    assert read == {k: v for k, v in shift.items() if k != "sure"}
    listed = client.simulate_get("/api/ocs-on-demand/", params={"tier_id": tier["id"]},
                                 headers=bearer(cast.bob_token)).json
    assert listed == {"results": [read], "next_page": None}
    composite = client.simulate_get("/api/ocs-on-demand/", params={
        "tier_id": f"{tier['ocs']}_1"}, headers=bearer(cast.bob_token)).json
    assert composite["results"] == [read]
    updated = client.simulate_put(path, headers=bearer(cast.alice_token), json={
        "end": iso(at + 10 * HOUR), "contact": tier["alice"], "sure": "true"})
    assert updated.status_code == 200, updated.json
    assert (updated.json["end"], updated.json["contact"], updated.json["sure"]) == (
        iso(at + 10 * HOUR), tier["alice"], True)
    for params in ({}, {"tier_id": tier["id"]}):
        assert client.simulate_get("/api/ocs-on-demand/count/", params=params,
                                   headers=bearer(cast.bob_token)).json == {"count": 1}
    deleted = client.simulate_delete(path, headers=bearer(cast.alice_token))
    assert deleted.status_code == 200 and deleted.text == "1"
    assert client.simulate_get(path, headers=bearer(cast.alice_token)).status_code == 404


def test_the_list_needs_a_tier(client, cast, tier):
    response = client.simulate_get("/api/ocs-on-demand/", headers=bearer(cast.alice_token))
    assert response.status_code == 422 and "tier_id" in response.json["error"]["fields"]
    unknown = client.simulate_get("/api/ocs-on-demand/", params={"tier_id": "999999"},
                                  headers=bearer(cast.alice_token))
    assert unknown.status_code == 404


def test_without_sure_an_overlap_with_another_on_demand_shift_is_a_409(client, cast, tier):
    at = tier["at"]
    assert post(client, cast.alice_token, tier, at, at + 8 * HOUR, tier["bob"]).status_code == 201
    for sure in ({}, {"sure": False}, {"sure": "false"}):
        refused = post(client, cast.alice_token, tier, at + 4 * HOUR, at + 12 * HOUR,
                       tier["alice"], **sure)
        assert refused.status_code == 409, refused.json
        assert refused.json["error"]["code"] == "shift_overlaps"
    beside = post(client, cast.alice_token, tier, at + 8 * HOUR, at + 9 * HOUR, tier["alice"])
    assert beside.status_code == 201            # touching is not overlapping
    assert len(stored(tier)) == 2


def test_without_sure_an_overlap_with_a_layer_shift_is_a_409(client, cast, tier):
    client.simulate_patch(f"/api/ocs-tier/{tier['id']}/", headers=bearer(cast.alice_token),
                          json={"layers": [seed_layer([tier["alice"]])]})
    at = tier["at"]
    refused = post(client, cast.alice_token, tier, at, at + HOUR, tier["bob"])
    assert refused.status_code == 409 and stored(tier) == []
    accepted = post(client, cast.alice_token, tier, at, at + HOUR, tier["bob"], sure=True)
    assert accepted.status_code == 201 and stored(tier) == [(tier["bob"], at, at + HOUR)]


def test_with_sure_a_shift_splits_trims_and_replaces_the_on_demand_shifts_it_runs_over(
        client, cast, tier):
    at, alice, bob = tier["at"], tier["alice"], tier["bob"]
    long = post(client, cast.alice_token, tier, at, at + 10 * HOUR, alice).json
    post(client, cast.alice_token, tier, at + 12 * HOUR, at + 14 * HOUR, alice)
    post(client, cast.alice_token, tier, at + 16 * HOUR, at + 20 * HOUR, alice)
    response = post(client, cast.alice_token, tier, at + 4 * HOUR, at + 6 * HOUR, bob, sure=True)
    assert response.status_code == 201, response.json
    assert stored(tier) == [(alice, at, at + 4 * HOUR), (bob, at + 4 * HOUR, at + 6 * HOUR),
                            (alice, at + 6 * HOUR, at + 10 * HOUR),
                            (alice, at + 12 * HOUR, at + 14 * HOUR),
                            (alice, at + 16 * HOUR, at + 20 * HOUR)]
    assert OnDemandShift.get_by_id(long["id"]).end_at == at + 4 * HOUR   # the earlier part
    post(client, cast.alice_token, tier, at + 11 * HOUR, at + 18 * HOUR, bob, sure=True)
    assert stored(tier)[3:] == [(bob, at + 11 * HOUR, at + 18 * HOUR),
                                (alice, at + 18 * HOUR, at + 20 * HOUR)]


def test_a_shift_ends_after_it_starts_names_a_known_contact_and_a_visible_tier(client, cast,
                                                                               tier, settings):
    at = tier["at"]
    backwards = post(client, cast.alice_token, tier, at, at - HOUR, tier["bob"])
    assert backwards.status_code == 422 and "end" in backwards.json["error"]["fields"]
    empty = post(client, cast.alice_token, tier, at, at, tier["bob"])
    assert empty.status_code == 422
    outsider = post(client, cast.alice_token, tier, at, at + HOUR, contact_of(cast.charlie))
    assert outsider.status_code == 422 and "contact" in outsider.json["error"]["fields"]
    unknown = client.simulate_post("/api/ocs-on-demand/", headers=bearer(cast.alice_token), json={
        "start": iso(at), "end": iso(at + HOUR), "contact": tier["bob"], "tier": 999999})
    assert unknown.status_code == 404
    listy = client.simulate_post("/api/ocs-on-demand/", headers=bearer(cast.alice_token), json={
        "start": iso(at), "end": iso(at + HOUR), "contact": [tier["bob"]], "tier": tier["id"]})
    assert listy.status_code == 422 and "contact" in listy.json["error"]["fields"]
    assert stored(tier) == []


def test_a_tier_patch_replaces_the_on_demand_shifts_only_when_it_names_some(client, cast, tier):
    at, alice, bob = tier["at"], tier["alice"], tier["bob"]
    kept = post(client, cast.alice_token, tier, at, at + HOUR, alice).json
    post(client, cast.alice_token, tier, at + 2 * HOUR, at + 3 * HOUR, alice)
    path = f"/api/ocs-tier/{tier['id']}/"
    client.simulate_patch(path, json={"on_demand": [], "layers": []},
                          headers=bearer(cast.alice_token))
    assert len(stored(tier)) == 2
    response = client.simulate_patch(path, headers=bearer(cast.alice_token), json={"on_demand": [
        {"s": iso(at), "e": iso(at + 2 * HOUR), "c": bob, "i": kept["id"]},
        {"start": iso(at + 5 * HOUR), "end": iso(at + 6 * HOUR), "contact": alice}]})
    assert response.status_code == 200, response.json
    assert stored(tier) == [(bob, at, at + 2 * HOUR), (alice, at + 5 * HOUR, at + 6 * HOUR)]
    assert OnDemandShift.get(OnDemandShift.start_at == at).id == kept["id"]
    overlapping = client.simulate_patch(path, headers=bearer(cast.alice_token), json={
        "on_demand": [{"s": iso(at), "e": iso(at + 2 * HOUR), "c": bob},
                      {"s": iso(at + HOUR), "e": iso(at + 3 * HOUR), "c": alice}]})
    assert overlapping.status_code == 422
    assert "on_demand.1.start" in overlapping.json["error"]["fields"]
    assert len(stored(tier)) == 2


def test_stats_count_each_contacts_shifts_and_hours_ordered_and_paged(client, cast, tier):
    alice, bob = tier["alice"], tier["bob"]
    path = f"/api/ocs-tier/{tier['id']}/"
    client.simulate_patch(path, headers=bearer(cast.alice_token), json={"layers": [seed_layer(
        [alice], start=iso(clock.now() - 30 * DAY), tz="UTC")]})
    client.simulate_patch(f"/api/ocs-tier/{tier['ocs']}_2/", headers=bearer(cast.alice_token),
                          json={"layers": []})
    night = (clock.now() - 3 * DAY).replace(hour=23, minute=0, second=0, microsecond=0)
    assert post(client, cast.alice_token, tier, night, night + 10 * HOUR, bob,
                sure=True).status_code == 201
    stats = f"/api/ocs/{tier['ocs']}/stats/"
    answer = client.simulate_get(stats, params={"timeframe": 7, "ordering": "-shifts"},
                                 headers=bearer(cast.bob_token)).json
    rows = answer["results"]
    assert [(r["contact"]["id"], r["shifts"], r["hours"]) for r in rows] == [
        (alice, 2, 158.0), (bob, 1, 10.0)]
    weekend = sum(1 for h in range(10) if (night + h * HOUR).weekday() >= 5)
    assert (rows[1]["night_hours"], rows[1]["weekend_hours"]) == (8.0, float(weekend))
    assert answer["next_page"] is None and answer["count"] == 2 and answer["timeframe"] == 7
    assert [(t["number"], t["uncovered_hours"]) for t in answer["tiers"]] == [(1, 0.0),
                                                                               (2, 168.0)]
    by_hours = client.simulate_get(stats, params={"ordering": "hours", "limit": 1},
                                   headers=bearer(cast.bob_token)).json
    assert [r["contact"]["id"] for r in by_hours["results"]] == [bob]
    assert by_hours["next_page"] == 2
    second = client.simulate_get(stats, params={"ordering": "hours", "limit": 1, "page": 2},
                                 headers=bearer(cast.bob_token)).json
    assert [r["contact"]["id"] for r in second["results"]] == [alice]
    assert second["next_page"] is None
    for bad in ({"ordering": "-nonsense"}, {"timeframe": 0}, {"timeframe": 367},
                {"format": "xml"}):
        refused = client.simulate_get(stats, params=bad, headers=bearer(cast.bob_token))
        assert refused.status_code == 422, bad


def test_a_refused_patch_of_a_new_tier_creates_nothing(client, cast, tier):
    at, alice = tier["at"], tier["alice"]
    path = f"/api/ocs-tier/{tier['ocs']}_2/"
    for body in ({"layers": [seed_layer([999999])]},
                 {"layers": [], "on_demand": [{"s": iso(at), "e": iso(at - HOUR), "c": alice}]}):
        response = client.simulate_patch(path, json=body, headers=bearer(cast.alice_token))
        assert response.status_code == 422, response.json
    assert client.simulate_get("/api/ocs-tier/count/", params={"ocs": tier["ocs"]},
                               headers=bearer(cast.alice_token)).json == {"count": 1}
