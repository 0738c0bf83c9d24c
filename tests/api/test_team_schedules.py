"""Endpoints 98-101: team schedule entries created, read back by their name (member and
created_at to the second), replaced and deleted, with the shifts of the next 30 days; the
permission cast, bad input, and the `schedule` incident assignee."""
from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast, make_team

NOW = dt.datetime(2024, 1, 1, 9, 30, tzinfo=dt.timezone.utc)     # a Monday


@pytest.fixture
def frozen(monkeypatch):
    """Every request reads NOW, so created_at and the shifts' window are exact."""
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return NOW


@pytest.fixture
def cast(settings, frozen):
    return make_cast(settings, bob_role="user")


def seed_entry(member, **fields) -> dict:
    """The seeds' example body, for `member`."""
    return {"team_member_id": str(member.id), "start_date": "2024-01-01T00:00:00Z",
            "end_date": "2024-01-31T23:59:59Z", "months_of_year": [1], "weeks_of_month": [1],
            "week_days": [1], "start_time": "00:00:00", "end_time": "23:59:59", **fields}


def create(client, cast, body, token=None, team=None):
    return client.simulate_post(f"/v1/team/{(team or cast.team).id}/schedule", json=body,
                                headers=bearer(token or cast.alice_token))


def schedule_of(client, customer, token):
    return client.simulate_get(f"/v1/customer/{customer.id}/schedule", headers=bearer(token))


def delete(client, cast, member_id, created_at, token=None):
    return client.simulate_delete(f"/v1/team/{cast.team.id}/schedule", params={
        "team_member_id": str(member_id), "created_at": created_at},
        headers=bearer(token or cast.alice_token))


def test_the_seeds_entry_is_created_read_back_replaced_and_deleted_by_its_name(client, cast):
    response = create(client, cast, seed_entry(cast.bob))
    assert response.status_code == 201, response.json
    entry = response.json
    assert {k: v for k, v in entry.items() if k not in ("id", "updated_at")} == {
        "team_id": str(cast.team.id), "team_member_id": str(cast.bob.id),
        "created_at": "2024-01-01T09:30:00Z", "start_date": "2024-01-01T00:00:00Z",
        "end_date": "2024-01-31T23:59:59Z", "months_of_year": [1], "weeks_of_month": [1],
        "week_days": [1], "start_time": "00:00:00", "end_time": "23:59:59", "timezone": "UTC"}

    listed = schedule_of(client, cast.bob, cast.bob_token).json
    # Monday 1 January is the only Monday of week 1; all day, and under way: it starts now
    assert listed == {"data": [{**entry, "shifts": [
        {"start_at": "2024-01-01T09:30:00Z", "end_at": "2024-01-02T00:00:00Z"}]}],
        "page": 1, "limit": 50, "total": 1}

    replaced = client.simulate_put(f"/v1/team/{cast.team.id}/schedule", json=seed_entry(
        cast.bob, created_at=entry["created_at"], weeks_of_month=None, week_days=[3],
        start_time="09:00:00", end_time="17:00:00", timezone="Europe/Berlin"),
        headers=bearer(cast.alice_token))
    assert replaced.status_code == 200, replaced.json
    assert (replaced.json["created_at"], replaced.json["weeks_of_month"],
            replaced.json["week_days"], replaced.json["timezone"]) == (
        "2024-01-01T09:30:00Z", None, [3], "Europe/Berlin")
    shifts = schedule_of(client, cast.bob, cast.alice_token).json["data"][0]["shifts"]
    # every Wednesday of January, 09:00-17:00 in Berlin (UTC+1); the window ends on the
    # 31st at 09:30, cutting the last
    assert shifts == [{"start_at": f"2024-01-{day:02}T08:00:00Z",
                       "end_at": f"2024-01-{day:02}T16:00:00Z"} for day in (3, 10, 17, 24)] + [
        {"start_at": "2024-01-31T08:00:00Z", "end_at": "2024-01-31T09:30:00Z"}]

    deleted = delete(client, cast, cast.bob.id, entry["created_at"])
    assert deleted.status_code == 200 and deleted.json["message"]
    assert schedule_of(client, cast.bob, cast.bob_token).json["data"] == []
    assert delete(client, cast, cast.bob.id, entry["created_at"]).status_code == 404


def test_the_next_30_days_hold_the_recurrence_s_shifts(client, cast):
    # nights from 22:00 to 06:00 on Mondays and Wednesdays of the first and last weeks
    nights = create(client, cast, seed_entry(
        cast.bob, end_date="2024-03-01T00:00:00Z", months_of_year=None,
        weeks_of_month=[-1, 1, 1], week_days=[3, 1], start_time="22:00:00",
        end_time="06:00:00")).json
    assert (nights["weeks_of_month"], nights["week_days"]) == ([-1, 1], [1, 3])
    # Saturdays 09:00-17:00 in New York (UTC-5)
    create(client, cast, seed_entry(
        cast.bob, months_of_year=None, weeks_of_month=None, week_days=[6],
        start_time="09:00:00", end_time="17:00:00", timezone="America/New_York"))
    first, second = schedule_of(client, cast.bob, cast.bob_token).json["data"]
    assert first["created_at"] == "2024-01-01T09:30:00Z"
    assert first["shifts"] == [
        {"start_at": "2024-01-01T22:00:00Z", "end_at": "2024-01-02T06:00:00Z"},
        {"start_at": "2024-01-03T22:00:00Z", "end_at": "2024-01-04T06:00:00Z"},
        {"start_at": "2024-01-29T22:00:00Z", "end_at": "2024-01-30T06:00:00Z"}]
    # the same member's second entry in the same second takes the next second
    assert second["created_at"] == "2024-01-01T09:30:01Z"
    assert second["shifts"] == [{"start_at": f"2024-01-{day:02}T14:00:00Z",
                                 "end_at": f"2024-01-{day:02}T22:00:00Z"}
                                for day in (6, 13, 20, 27)]


def test_two_entries_of_a_member_in_one_second_are_named_apart(client, cast):
    first = create(client, cast, seed_entry(cast.bob)).json
    second = create(client, cast, seed_entry(cast.bob, week_days=[2])).json
    assert (first["created_at"], second["created_at"]) == (
        "2024-01-01T09:30:00Z", "2024-01-01T09:30:01Z")
    assert delete(client, cast, cast.bob.id, "2024-01-01T09:30:01Z").status_code == 200
    [left] = schedule_of(client, cast.bob, cast.bob_token).json["data"]
    assert left["id"] == first["id"]


def test_an_entry_is_handed_to_another_member_keeping_its_created_at(client, cast):
    entry = create(client, cast, seed_entry(cast.bob)).json
    moved = client.simulate_put(f"/v1/team/{cast.team.id}/schedule", json=seed_entry(
        cast.bob, created_at=entry["created_at"], new_team_member_id=str(cast.alice.id)),
        headers=bearer(cast.alice_token))
    assert moved.status_code == 200, moved.json
    assert (moved.json["id"], moved.json["team_member_id"], moved.json["created_at"]) == (
        entry["id"], str(cast.alice.id), entry["created_at"])
    assert schedule_of(client, cast.bob, cast.bob_token).json["data"] == []
    assert [e["id"] for e in schedule_of(client, cast.alice, cast.bob_token).json["data"]] \
        == [entry["id"]]
    outsider = client.simulate_put(f"/v1/team/{cast.team.id}/schedule", json=seed_entry(
        cast.alice, created_at=entry["created_at"], new_team_member_id=str(cast.charlie.id)),
        headers=bearer(cast.alice_token))
    assert outsider.status_code == 422
    assert set(outsider.json["error"]["fields"]) == {"new_team_member_id"}


def test_someone_not_in_the_team_cannot_be_scheduled(client, cast, settings):
    for member in (cast.charlie, cast.team):     # another organisation's; not a person at all
        response = create(client, cast, seed_entry(member))
        assert response.status_code == 422, response.json
        assert set(response.json["error"]["fields"]) == {"team_member_id"}
    elsewhere = make_team(cast.alice)            # Alice's other team, which Bob is not in
    response = create(client, cast, seed_entry(cast.bob), team=elsewhere)
    assert response.status_code == 422


def test_a_customer_s_schedule_shows_only_teams_the_caller_is_in(client, cast):
    own = make_team(cast.bob)                    # Bob's own team, without Alice
    create(client, cast, seed_entry(cast.bob), token=cast.bob_token, team=own)
    create(client, cast, seed_entry(cast.bob, week_days=[2]))
    by_alice = schedule_of(client, cast.bob, cast.alice_token).json["data"]
    assert [e["team_id"] for e in by_alice] == [str(cast.team.id)]
    by_bob = schedule_of(client, cast.bob, cast.bob_token).json["data"]
    assert sorted(e["team_id"] for e in by_bob) == sorted([str(cast.team.id), str(own.id)])


def test_a_user_reads_the_schedule_but_cannot_write_it(client, cast):
    entry = create(client, cast, seed_entry(cast.bob)).json
    assert create(client, cast, seed_entry(cast.bob), token=cast.bob_token).status_code == 403
    put = client.simulate_put(f"/v1/team/{cast.team.id}/schedule",
                              json=seed_entry(cast.bob, created_at=entry["created_at"]),
                              headers=bearer(cast.bob_token))
    assert put.status_code == 403 and put.json["error"]["code"] == "role_required"
    assert delete(client, cast, cast.bob.id, entry["created_at"],
                  token=cast.bob_token).status_code == 403
    assert schedule_of(client, cast.alice, cast.bob_token).status_code == 200


def test_a_manager_writes_the_schedule(client, settings, frozen):
    cast = make_cast(settings, bob_role="manager")
    entry = create(client, cast, seed_entry(cast.alice), token=cast.bob_token)
    assert entry.status_code == 201
    assert delete(client, cast, cast.alice.id, entry.json["created_at"],
                  token=cast.bob_token).status_code == 200


def test_another_organisation_finds_nothing_on_any_endpoint(client, cast):
    entry = create(client, cast, seed_entry(cast.bob)).json
    path = f"/v1/team/{cast.team.id}/schedule"
    answers = [
        create(client, cast, seed_entry(cast.charlie), token=cast.charlie_token),
        client.simulate_put(path, json=seed_entry(cast.bob, created_at=entry["created_at"]),
                            headers=bearer(cast.charlie_token)),
        delete(client, cast, cast.bob.id, entry["created_at"], token=cast.charlie_token),
        schedule_of(client, cast.bob, cast.charlie_token),
        schedule_of(client, cast.alice, cast.charlie_token),
    ]
    assert [a.status_code for a in answers] == [404] * 5
    assert {a.json["error"]["code"] for a in answers} == {"not_found"}
    assert schedule_of(client, cast.charlie, cast.alice_token).status_code == 404


def test_an_unknown_entry_is_a_404_on_put_and_delete(client, cast):
    entry = create(client, cast, seed_entry(cast.bob)).json
    for created_at in ("2024-01-01T09:30:01Z", "2024-01-01T09:30:00.5Z"):
        put = client.simulate_put(f"/v1/team/{cast.team.id}/schedule",
                                  json=seed_entry(cast.bob, created_at=created_at),
                                  headers=bearer(cast.alice_token))
        assert put.status_code == 404, created_at
        assert delete(client, cast, cast.bob.id, created_at).status_code == 404
    assert delete(client, cast, cast.alice.id, entry["created_at"]).status_code == 404
    # the same instant in another offset names the entry
    assert delete(client, cast, cast.bob.id, "2024-01-01T10:30:00+01:00").status_code == 200


@pytest.mark.parametrize("fields, field", [
    ({"end_date": "2023-12-31T00:00:00Z"}, "end_date"),
    ({"end_date": "2024-01-01T00:00:00Z"}, "end_date"),
    ({"start_date": "yesterday"}, "start_date"),
    ({"start_date": "0001-01-01T00:00:00+14:00"}, "start_date"),
    ({"months_of_year": [0]}, "months_of_year.0"),
    ({"months_of_year": [13]}, "months_of_year.0"),
    ({"weeks_of_month": [9]}, "weeks_of_month.0"),
    ({"weeks_of_month": [0]}, "weeks_of_month.0"),
    ({"weeks_of_month": [1, -2]}, "weeks_of_month.1"),
    ({"weeks_of_month": [True]}, "weeks_of_month.0"),
    ({"months_of_year": [1.0]}, "months_of_year.0"),
    ({"week_days": [7]}, "week_days.0"),
    ({"week_days": [-1]}, "week_days.0"),
    ({"week_days": []}, "week_days"),
    ({"week_days": [True]}, "week_days.0"),
    ({"week_days": "1"}, "week_days"),
    ({"start_time": "25:00:00"}, "start_time"),
    ({"start_time": "9:00"}, "start_time"),
    ({"end_time": "23:60:00"}, "end_time"),
    ({"end_time": 9}, "end_time"),
    ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
    ({"timezone": "../../etc/passwd"}, "timezone"),
    ({"team_member_id": "not-a-uuid"}, "team_member_id"),
    ({"team_member_id": None}, "team_member_id"),
])
def test_bad_fields_are_refused_with_their_names(client, cast, fields, field):
    response = create(client, cast, seed_entry(cast.bob, **fields))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"], response.json


def test_a_field_left_out_is_named_and_optional_ones_default(client, cast):
    body = seed_entry(cast.bob)
    del body["start_time"], body["months_of_year"], body["weeks_of_month"], body["week_days"]
    response = create(client, cast, body)
    assert response.status_code == 422 and response.json["error"]["fields"] == {
        "start_time": "is required"}
    body["start_time"] = "00:00:00"
    entry = create(client, cast, body).json
    assert (entry["months_of_year"], entry["weeks_of_month"], entry["week_days"],
            entry["timezone"]) == (None, None, None, "UTC")


@pytest.mark.parametrize("raw", [b"not json", b"[1]", b'{"team_member_id": ', b"\xff"])
def test_a_body_that_is_no_json_object_is_a_400(client, cast, raw):
    for method in ("POST", "PUT"):
        response = client.simulate_request(method, f"/v1/team/{cast.team.id}/schedule",
                                           body=raw, headers={**bearer(cast.alice_token),
                                                              "Content-Type": "application/json"})
        assert response.status_code == 400, (method, response.json)
        assert response.json["error"]["code"] == "malformed_body"


@pytest.mark.parametrize("params, field", [
    ({"team_member_id": "x", "created_at": "2024-01-01T00:00:00Z"}, "team_member_id"),
    ({"created_at": "2024-01-01T00:00:00Z"}, "team_member_id"),
    ({"team_member_id": "00000000-0000-0000-0000-000000000000"}, "created_at"),
    ({"team_member_id": "00000000-0000-0000-0000-000000000000", "created_at": "yesterday"},
     "created_at"),
    ({"team_member_id": "00000000-0000-0000-0000-000000000000",
      "created_at": "2024-13-45T00:00:00Z"}, "created_at"),
])
def test_a_delete_with_bad_query_values_is_a_422(client, cast, params, field):
    response = client.simulate_delete(f"/v1/team/{cast.team.id}/schedule", params=params,
                                      headers=bearer(cast.alice_token))
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_a_team_schedule_is_an_incident_assignee(client, cast, settings):
    assignees = [{"type": "schedule", "id": str(cast.team.id)}]
    opened = client.simulate_post(f"/v1/team/{cast.team.id}/incident", json={
        "name": "Disk full", "assignees": assignees}, headers=bearer(cast.alice_token))
    assert opened.status_code == 201, opened.json
    assert opened.json["assignees"] == assignees
    theirs = make_team(cast.charlie)
    refused = client.simulate_post(f"/v1/team/{cast.team.id}/incident", json={
        "name": "Disk full", "assignees": [{"type": "schedule", "id": str(theirs.id)}]},
        headers=bearer(cast.alice_token))
    assert refused.status_code == 422
    assert refused.json["error"]["fields"] == {"assignees.0.id": "no such schedule here"}

