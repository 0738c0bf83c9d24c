"""Endpoints 74-81: heartbeat monitors through the API."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from models.heartbeats import ingest
from models.heartbeats.signals import Signal
from models.heartbeats.tables import Heartbeat
from models.organisations import Organisation
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast, make_service


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


@pytest.fixture
def service(cast):
    return make_service(cast.team)


def create(client, cast, service, token=None, **fields):
    body = {"name": "Nightly backup", "service_id": str(service.id), **fields}
    return client.simulate_post("/v1/heartbeat", json=body,
                                headers=bearer(token or cast.alice_token))


def test_a_heartbeat_is_created_with_its_defaults_and_ping_url(client, cast, service, settings):
    response = create(client, cast, service)
    assert response.status_code == 201, response.json
    found = response.json
    assert (found["methods"], found["interval"], found["grace"], found["timezone"],
            found["status"]) == (["GET", "POST", "HEAD"], 3600, 300, "UTC", "new")
    assert found["ping_url"] == f"{settings.gateway_url}/v1/heartbeat/{found['id']}"
    again = client.simulate_get(f"/v1/heartbeat/{found['id']}", headers=bearer(cast.bob_token))
    assert again.json == found


def test_a_cron_schedule_with_a_time_zone_is_kept(client, cast, service):
    response = create(client, cast, service, schedule="30 2 * * 1-5",
                      timezone="America/New_York", grace=900, max_run_seconds=3600)
    assert response.status_code == 201, response.json
    assert (response.json["schedule"], response.json["timezone"],
            response.json["max_run_seconds"]) == ("30 2 * * 1-5", "America/New_York", 3600)


@pytest.mark.parametrize("fields, field", [
    ({"name": ""}, "name"),
    ({"name": 5}, "name"),
    ({"methods": ["PUT"]}, "methods"),
    ({"methods": []}, "methods"),
    ({"interval": 1}, "interval"),
    ({"interval": "often"}, "interval"),
    ({"grace": -1}, "grace"),
    ({"schedule": "every day at noon"}, "schedule"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"max_run_seconds": 0}, "max_run_seconds"),
    ({"service_id": "not-a-uuid"}, "service_id"),
])
def test_bad_fields_are_refused_with_their_names(client, cast, service, fields, field):
    response = create(client, cast, service, **fields)
    assert response.status_code == 422, response.json
    assert any(name.split(".")[0] == field for name in response.json["error"]["fields"])


@pytest.mark.parametrize("schedule", ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 1 1 * 30"])
def test_a_schedule_that_never_fires_in_the_next_five_years_is_refused(client, cast, service,
                                                                      schedule):
    response = create(client, cast, service, schedule=schedule)
    assert response.status_code == 422, response.json
    assert set(response.json["error"]["fields"]) == {"schedule"}
    heartbeat = create(client, cast, service, schedule="0 0 29 2 *").json   # leap days fire
    changed = client.simulate_put(f"/v1/heartbeat/{heartbeat['id']}",
                                  json={"schedule": schedule}, headers=bearer(cast.alice_token))
    assert changed.status_code == 422 and "schedule" in changed.json["error"]["fields"]


def test_a_missing_name_and_a_malformed_body_are_refused(client, cast, service):
    response = client.simulate_post("/v1/heartbeat", json={"service_id": str(service.id)},
                                    headers=bearer(cast.alice_token))
    assert response.status_code == 422 and "name" in response.json["error"]["fields"]
    response = client.simulate_post("/v1/heartbeat", body=b"{nope",
                                    headers={**bearer(cast.alice_token),
                                             "Content-Type": "application/json"})
    assert response.status_code == 400


def test_update_changes_only_the_given_fields(client, cast, service):
    heartbeat = create(client, cast, service, interval=600).json
    other = make_service(cast.team)
    response = client.simulate_put(f"/v1/heartbeat/{heartbeat['id']}", json={
        "name": "My heartbeat", "service_id": str(other.id), "methods": ["GET"]},
        headers=bearer(cast.alice_token))
    assert response.status_code == 200, response.json
    found = response.json
    assert (found["name"], found["service_id"], found["methods"], found["interval"]) == (
        "My heartbeat", str(other.id), ["GET"], 600)
    switched = client.simulate_put(f"/v1/heartbeat/{heartbeat['id']}",
                                   json={"schedule": "0 * * * *"},
                                   headers=bearer(cast.alice_token)).json
    assert switched["schedule"] == "0 * * * *"
    back = client.simulate_put(f"/v1/heartbeat/{heartbeat['id']}", json={"interval": 120},
                               headers=bearer(cast.alice_token)).json
    assert (back["schedule"], back["interval"]) == (None, 120)


def test_list_by_service_pages(client, cast, service):
    for n in range(3):
        create(client, cast, service, name=f"job {n}")
    response = client.simulate_get(f"/v1/service/{service.id}/heartbeats?page=2&limit=2",
                                   headers=bearer(cast.bob_token))
    assert (response.json["total"], [h["name"] for h in response.json["data"]]) == (3, ["job 2"])
    details = client.simulate_get(f"/v1/team-service/{service.id}",
                                  headers=bearer(cast.alice_token)).json
    assert details["counts"]["heartbeats"] == 3


def test_delete_one_and_many(client, cast, service):
    ids = [create(client, cast, service, name=f"job {n}").json["id"] for n in range(3)]
    response = client.simulate_delete(f"/v1/heartbeat?id={ids[0]}&id={ids[1]}",
                                      headers=bearer(cast.alice_token))
    assert response.status_code == 200 and response.json["ids"] == ids[:2]
    assert client.simulate_delete(f"/v1/heartbeat/{ids[2]}",
                                  headers=bearer(cast.alice_token)).status_code == 200
    assert Heartbeat.select().count() == 0
    assert client.simulate_get(f"/v1/heartbeat/{ids[2]}",
                               headers=bearer(cast.alice_token)).status_code == 404


def test_a_user_reads_but_may_not_change(client, cast, service):
    heartbeat = create(client, cast, service).json
    assert create(client, cast, service, token=cast.bob_token).status_code == 403
    path = f"/v1/heartbeat/{heartbeat['id']}"
    assert client.simulate_put(path, json={"name": "x"},
                               headers=bearer(cast.bob_token)).status_code == 403
    assert client.simulate_delete(path, headers=bearer(cast.bob_token)).status_code == 403
    assert client.simulate_get(path, headers=bearer(cast.bob_token)).status_code == 200


def test_another_organisation_sees_none_of_it(client, cast, service):
    heartbeat = create(client, cast, service).json
    item = f"/v1/heartbeat/{heartbeat['id']}"
    other = bearer(cast.charlie_token)
    for method, path, body in [("GET", item, None), ("PUT", item, {"name": "mine"}),
                               ("DELETE", item, None), ("GET", f"{item}/statistic", None),
                               ("GET", f"{item}/events", None),
                               ("DELETE", f"/v1/heartbeat?id={heartbeat['id']}", None),
                               ("GET", f"/v1/service/{service.id}/heartbeats", None)]:
        response = client.simulate_request(method, path, json=body, headers=other)
        assert response.status_code == 404, (method, path, response.json)
    response = create(client, cast, service, token=cast.charlie_token)
    assert response.status_code == 404
    assert Heartbeat.get_by_id(heartbeat["id"]).name == "Nightly backup"


def test_the_plan_limits_heartbeats(client, cast, service):
    Organisation.update(plan="free").execute()
    made = [create(client, cast, service, name=f"job {n}").status_code for n in range(21)]
    assert made == [201] * 20 + [403]
    assert Heartbeat.select().count() == 20


def test_statistics_and_events_through_the_api(client, cast, service):
    heartbeat = create(client, cast, service, interval=60, grace=30).json
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    signals = [Signal(key=uuid.uuid4().hex, heartbeat_id=heartbeat["id"], result=result,
                      received_at=start + dt.timedelta(seconds=seconds), method="POST",
                      message=f"#{n}", ip="192.0.2.7", user_agent="cron/1.0")
               for n, (seconds, result) in enumerate([(0, "run"), (12, "complete"), (60, "tick")])]
    ingest.store(signals, now=start)
    headers = bearer(cast.bob_token)
    stats = client.simulate_get(f"/v1/heartbeat/{heartbeat['id']}/statistic?interval=1h",
                                headers=headers)
    assert stats.status_code == 200, stats.json
    assert stats.json["counts"] == {"tick": 1, "run": 1, "complete": 1, "fail": 0}
    assert stats.json["runs"]["max_seconds"] == 12.0 and stats.json["uptime"] == 100.0
    assert client.simulate_get(f"/v1/heartbeat/{heartbeat['id']}/statistic?interval=2h",
                               headers=headers).status_code == 422
    events = client.simulate_get(f"/v1/heartbeat/{heartbeat['id']}/events?limit=2",
                                 headers=headers).json["data"]
    assert [(e["message"], e["ip"], e["method"], e["user_agent"]) for e in events] == [
        ("#2", "192.0.2.7", "POST", "cron/1.0"), ("#1", "192.0.2.7", "POST", "cron/1.0")]
    rest = client.simulate_get(f"/v1/heartbeat/{heartbeat['id']}/events",
                               params={"last_received_at": events[-1]["received_at"]},
                               headers=headers).json["data"]
    assert [e["message"] for e in rest] == ["#0"]
    assert client.simulate_get(f"/v1/heartbeat/{heartbeat['id']}/events?limit=0",
                               headers=headers).status_code == 422
