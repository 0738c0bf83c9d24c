"""Endpoints 44-63: uptime monitors through the API."""
from __future__ import annotations

import datetime as dt

import pytest

from models import clock, statistics
from models.clock import isoformat
from models.monitors.tables import ExpiryReminder, Monitor, MonitorFacts
from models.organisations import Organisation
from models.results import CheckResult
from models.changelog import ScheduleChange
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast, make_service


@pytest.fixture
def cast(settings):
    cast = make_cast(settings, bob_role="manager")
    Organisation.update(plan="free").execute()   # these tests meet the free plan's limits
    return cast


@pytest.fixture
def service(cast):
    return make_service(cast.team)


def create(client, cast, service, token=None, **fields):
    body = {"name": "Website", "type": "http", "url": "https://example.com/health",
            "service_id": str(service.id), **fields}
    return client.simulate_post("/v1/resource", json=body, headers=bearer(token or cast.alice_token))


# -- create, by type ----------------------------------------------------------------------

def test_an_http_monitor_is_created_with_its_defaults(client, cast, service):
    response = create(client, cast, service)
    assert response.status_code == 201
    monitor = response.json
    assert (monitor["type"], monitor["method"], monitor["interval"], monitor["timeout"]) == (
        "http", "GET", 60, 10)
    assert monitor["regions"] == ["local", "eu-central-1"]      # the free plan allows two
    assert (monitor["status"], monitor["enabled"]) == ("unknown", True)
    assert ScheduleChange.select().where(ScheduleChange.target_id == monitor["id"]).exists()


def test_the_seeds_example_body_is_accepted(client, cast, service):
    Organisation.update(plan="business").execute()
    response = create(client, cast, service, **{
        "name": "Pinghome", "type": "http", "port": "", "data": "", "grace_period": 0,
        "recovery_period": 0, "maintenance_cron_expression": "*/8 * * * *",
        "maintenance_duration": 5, "skip_ssl_error": False, "not_follow_redirect": False,
        "method": "POST", "body": "param1=value1&param2=value2", "is_advanced": True,
        "headers": {"Authorization": "Bearer sometoken"},
        "url": "https://website-stage.ping-home.com",
        "conditions": [{"values": ["pinghome"], "operator": "equal",
                        "type": "response-json-check", "key": "groups.user[0].name"}],
        "regions": ["eu-central-1"]})
    assert response.status_code == 201, response.json
    assert response.json["headers"] == {"Authorization": "Bearer sometoken"}
    assert response.json["conditions"][0]["key"] == "groups.user[0].name"


@pytest.mark.parametrize("fields, stored", [
    ({"type": "keyword", "data": "Welcome"}, {"data": "Welcome"}),
    ({"type": "ping", "url": None, "host": "example.com"}, {"host": "example.com"}),
    ({"type": "port", "url": None, "host": "mail.example.com", "port": 25},
     {"host": "mail.example.com", "port": 25}),
    ({"type": "port", "url": None, "host": "db.example.com", "port": "5432"}, {"port": 5432}),
    ({"type": "ssl", "url": "https://example.com:8443/"}, {"host": "example.com", "port": 8443}),
    ({"type": "tld", "url": None, "host": "Example.COM"}, {"host": "example.com"}),
    ({"headers": '{"X-Api-Key": "k"}'}, {"headers": {"X-Api-Key": "k"}}),
])
def test_each_type_keeps_what_it_needs(client, cast, service, fields, stored):
    response = create(client, cast, service, **fields)
    assert response.status_code == 201, response.json
    for name, value in stored.items():
        assert response.json[name] == value


@pytest.mark.parametrize("fields, field", [
    ({"type": "http", "url": "ftp://example.com/"}, "url"),
    ({"type": "keyword"}, "data"),
    ({"type": "port", "url": None, "host": "example.com"}, "port"),
    ({"type": "port", "url": None, "host": "example.com", "port": 70000}, "port"),
    ({"type": "ping", "url": None}, "host"),
    ({"type": "tld", "url": None, "host": "127.0.0.1"}, "host"),
    ({"type": "radar"}, "type"),
    ({"method": "FETCH"}, "method"),
    ({"headers": "not json"}, "headers"),
    ({"headers": {"Bad Header": "x"}}, "headers.Bad Header"),
    ({"conditions": [{"type": "body", "operator": "resembles", "values": ["x"]}]},
     "conditions.0"),
    ({"maintenance_cron_expression": "every day"}, "maintenance_cron_expression"),
    ({"maintenance_cron_expression": "0 * * * *"}, "maintenance_duration"),
    ({"interval": 30}, "interval"),             # the free plan's shortest is 60 s
    ({"interval": 60, "timeout": 61}, "timeout"),
    ({"regions": ["mars-1"]}, "regions"),
    ({"regions": ["local", "eu-central-1", "us-east-1"]}, "regions"),   # free plan: two
    ({"grace_period": -1}, "grace_period"),
    ({"name": ""}, "name"),
    ({"service_id": "nope"}, "service_id"),
    ({"skip_ssl_error": "yes"}, "skip_ssl_error"),
])
def test_a_bad_monitor_is_a_422_naming_the_field(client, cast, service, fields, field):
    response = create(client, cast, service, **fields)
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]


def test_the_plan_limits_the_number_of_monitors(client, cast, service):
    Monitor.insert_many([{"service": service, "name": f"m{n}", "type": "http", "url": "http://x/",
                          "regions": ["local"], "created_at": clock.now(),
                          "updated_at": clock.now()} for n in range(20)]).execute()
    response = create(client, cast, service)
    assert response.status_code == 403 and response.json["error"]["code"] == "plan_limit_reached"


# -- read, update, status, delete ---------------------------------------------------------

def test_a_monitor_is_read_listed_updated_and_paused(client, cast, service):
    monitor_id = create(client, cast, service).json["id"]
    headers = bearer(cast.bob_token)
    assert client.simulate_get(f"/v1/resource/{monitor_id}", headers=headers).json["name"] == "Website"
    listed = client.simulate_get(f"/v1/service/{service.id}/resources",
                                 params={"page": 1, "limit": 10}, headers=headers).json
    assert (listed["total"], listed["data"][0]["id"]) == (1, monitor_id)
    updated = client.simulate_put(f"/v1/resource/{monitor_id}", headers=headers,
                                  json={"name": "Shop", "interval": 120})
    assert updated.status_code == 200
    assert (updated.json["name"], updated.json["interval"], updated.json["url"]) == (
        "Shop", 120, "https://example.com/health")
    assert Monitor.get_by_id(monitor_id).version == 2
    paused = client.simulate_put(f"/v1/resource/{monitor_id}/status", json={"enabled": False},
                                 headers=headers)
    assert paused.json["enabled"] is False


def test_an_update_is_checked_as_a_whole(client, cast, service):
    monitor_id = create(client, cast, service).json["id"]
    response = client.simulate_put(f"/v1/resource/{monitor_id}", json={"type": "keyword"},
                                   headers=bearer(cast.alice_token))
    assert response.status_code == 422 and "data" in response.json["error"]["fields"]


def test_monitors_are_deleted_one_or_many_all_or_nothing(client, cast, service):
    ids = [create(client, cast, service).json["id"] for _ in range(3)]
    headers = bearer(cast.alice_token)
    assert client.simulate_delete(f"/v1/resource/{ids[0]}", headers=headers).status_code == 200
    unknown = "00000000-0000-4000-8000-000000000000"
    refused = client.simulate_delete("/v1/resource", query_string=f"id={ids[1]}&id={unknown}",
                                     headers=headers)
    assert refused.status_code == 404
    assert Monitor.select().count() == 2
    done = client.simulate_delete("/v1/resource", query_string=f"id={ids[1]}&id={ids[2]}",
                                  headers=headers)
    assert done.status_code == 200 and Monitor.select().count() == 0


def test_deleting_a_service_deletes_its_monitors(client, cast, service):
    create(client, cast, service)
    client.simulate_delete(f"/v1/service/{service.id}", headers=bearer(cast.alice_token))
    assert Monitor.select().count() == 0


def test_the_service_counts_its_monitors(client, cast, service):
    create(client, cast, service)
    details = client.simulate_get(f"/v1/team-service/{service.id}", headers=bearer(cast.bob_token))
    assert details.json["counts"]["monitors"] == 1


def test_users_read_monitors_but_do_not_change_them(client, settings):
    cast = make_cast(settings, bob_role="user")
    service = make_service(cast.team)
    monitor_id = create(client, cast, service).json["id"]
    headers = bearer(cast.bob_token)
    assert client.simulate_get(f"/v1/resource/{monitor_id}", headers=headers).status_code == 200
    assert create(client, cast, service, token=cast.bob_token).status_code == 403
    assert client.simulate_put(f"/v1/resource/{monitor_id}", json={"name": "x"},
                               headers=headers).status_code == 403
    assert client.simulate_delete(f"/v1/resource/{monitor_id}", headers=headers).status_code == 403


def test_another_organisations_monitors_are_not_found(client, cast, service):
    monitor_id = create(client, cast, service).json["id"]
    headers = bearer(cast.charlie_token)
    for method, path in [("GET", ""), ("PUT", ""), ("DELETE", ""), ("PUT", "/status"),
                         ("GET", "/regions"), ("GET", "/ssl"), ("GET", "/tld"),
                         ("GET", "/ssl/reminder"), ("POST", "/tld/reminder"),
                         ("GET", "/statistic"), ("GET", "/state-changed-logs")]:
        body = {"enabled": True} if path == "/status" else {"days_before": [1]} \
            if "reminder" in path else {"name": "x"}
        response = client.simulate_request(method, f"/v1/resource/{monitor_id}{path}",
                                           json=body, headers=headers)
        assert response.status_code == 404, (method, path)
    assert client.simulate_get(f"/v1/service/{service.id}/resources",
                               headers=headers).status_code == 404


# -- regions, facts, reminders ------------------------------------------------------------

def test_regions_show_each_regions_view(client, cast, service):
    monitor_id = create(client, cast, service).json["id"]
    regions = client.simulate_get(f"/v1/resource/{monitor_id}/regions",
                                  headers=bearer(cast.bob_token)).json["data"]
    assert [(r["region"], r["status"]) for r in regions] == [("local", "unknown"),
                                                             ("eu-central-1", "unknown")]


def test_ssl_and_tld_facts_are_served_once_known(client, cast, service):
    monitor_id = create(client, cast, service).json["id"]
    headers = bearer(cast.bob_token)
    assert client.simulate_get(f"/v1/resource/{monitor_id}/ssl", headers=headers).json["data"] is None
    MonitorFacts.create(monitor=monitor_id, kind="ssl", checked_at=clock.now(),
                        data={"valid": True, "days_left": 40, "issuer": "CN=Test CA"})
    facts = client.simulate_get(f"/v1/resource/{monitor_id}/ssl", headers=headers).json
    assert facts["data"]["days_left"] == 40 and facts["checked_at"]


@pytest.mark.parametrize("kind", ["ssl", "tld"])
def test_a_reminder_is_set_changed_read_and_deleted(client, cast, service, kind):
    monitor_id = create(client, cast, service).json["id"]
    path, headers = f"/v1/resource/{monitor_id}/{kind}/reminder", bearer(cast.alice_token)
    created = client.simulate_post(path, json={"days_before": [1, 7, 7, 30]}, headers=headers)
    assert created.status_code == 201 and created.json["days_before"] == [30, 7, 1]
    assert client.simulate_post(path, json={"days_before": [1]}, headers=headers).status_code == 409
    changed = client.simulate_put(path, json={"days_before": [14]}, headers=headers)
    assert changed.json["days_before"] == [14]
    assert client.simulate_get(path, headers=headers).json["days_before"] == [14]
    assert client.simulate_delete(path, headers=headers).status_code == 200
    assert client.simulate_get(path, headers=headers).status_code == 404
    assert client.simulate_put(path, json={"days_before": [1]}, headers=headers).status_code == 404


def test_the_seeds_example_reminder_paths_are_aliases(client, cast, service):
    monitor_id = create(client, cast, service).json["id"]
    headers = bearer(cast.alice_token)
    assert client.simulate_post(f"/v1/ssl/reminder/{monitor_id}", json={"days_before": [3]},
                                headers=headers).status_code == 201
    assert client.simulate_post(f"/v1/{monitor_id}/tld/reminder", json={"days_before": [3]},
                                headers=headers).status_code == 201
    assert ExpiryReminder.select().count() == 2


@pytest.mark.parametrize("body", [{"days_before": []}, {"days_before": [0]},
                                  {"days_before": [400]}, {"days_before": "7"}, {}])
def test_a_bad_reminder_is_a_422(client, cast, service, body):
    monitor_id = create(client, cast, service).json["id"]
    response = client.simulate_post(f"/v1/resource/{monitor_id}/ssl/reminder", json=body,
                                    headers=bearer(cast.alice_token))
    assert response.status_code == 422


def test_a_reminder_needs_something_to_watch(client, cast, service):
    plain = create(client, cast, service, url="http://example.com/").json["id"]
    by_address = create(client, cast, service, type="ping", url=None, host="192.0.2.7").json["id"]
    headers = bearer(cast.alice_token)
    assert client.simulate_post(f"/v1/resource/{plain}/ssl/reminder", json={"days_before": [1]},
                                headers=headers).status_code == 422
    assert client.simulate_post(f"/v1/resource/{by_address}/tld/reminder",
                                json={"days_before": [1]}, headers=headers).status_code == 422


# -- statistics ---------------------------------------------------------------------------

def test_the_performance_report_and_state_history_answer(client, cast, service):
    monitor_id = create(client, cast, service).json["id"]
    headers = bearer(cast.bob_token)
    end = clock.now()
    start = end - dt.timedelta(hours=3)
    report = client.simulate_get(f"/v1/resource/{monitor_id}/statistic", headers=headers,
                                 params={"start_date": start.isoformat(),
                                         "end_date": end.isoformat(), "interval": "hour"})
    assert report.status_code == 200, report.json
    assert report.json["interval"] == "hour" and len(report.json["buckets"]) in (3, 4)
    # a rolled-up hour is answered from the text its rollup keeps, within the same JSON
    hour = end.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=1)
    region = Monitor.get_by_id(monitor_id).regions[0]
    Monitor.update(created_at=start, regions=[region]).where(Monitor.id == monitor_id).execute()
    CheckResult.create(monitor=monitor_id, region=region, due_at=hour, checked_at=hour,
                       ok=True, response_ms=12.5)
    statistics.rebuild_hour(hour)
    report = client.simulate_get(f"/v1/resource/{monitor_id}/statistic", headers=headers,
                                 params={"start_date": start.isoformat(),
                                         "end_date": end.isoformat(), "interval": "hour"})
    rolled = [bucket for bucket in report.json["buckets"] if bucket["checks"]]
    assert report.headers["content-type"] == "application/json" and rolled == [{
        "start": isoformat(hour), "end": isoformat(hour + dt.timedelta(hours=1)),
        "uptime_percent": 100.0, "downtime_seconds": 0.0, "checks": 1, "failures": 0,
        "response_ms": {"avg": 12.5, "min": 12.5, "max": 12.5, "p95": 12.5},
        "regions": {region: {"checks": 1, "failures": 0, "uptime_percent": 100.0,
                              "response_ms": {"avg": 12.5, "min": 12.5, "max": 12.5,
                                              "p95": 12.5}}}}]
    history = client.simulate_get(f"/v1/resource/{monitor_id}/state-changed-logs",
                                  headers=headers, params={"limit": 5})
    assert history.status_code == 200 and history.json["data"] == []


@pytest.mark.parametrize("params", [{"interval": "fortnight"}, {"start_date": "yesterday"},
                                    {"limit": 0}, {"interval": "minute", "start_date": "2020-01-01T00:00:00Z"}])
def test_a_bad_report_query_is_a_422(client, cast, service, params):
    monitor_id = create(client, cast, service).json["id"]
    response = client.simulate_get(f"/v1/resource/{monitor_id}/statistic", params=params,
                                   headers=bearer(cast.bob_token))
    assert response.status_code == 422
