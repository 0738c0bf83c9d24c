"""Endpoints 102-106 and 108-111: status pages with their groups and components, created from
the seed's example body, changed, enabled, read back whole, with component statuses that
follow their monitors and the incidents that name them."""
from __future__ import annotations

import copy

import argon2
import pytest

from models import clock
from models.monitors import recording
from models.monitors.tables import Monitor
from models.statuspages.tables import StatusPage
from tests.factories.accounts import bearer
from tests.factories.monitors import make_monitor, outcome
from tests.factories.organisations import make_cast, make_service
from tests.jobs import held_jobs

SEED_COMPONENT = {"name": "Component name", "description": "Component description",
                  "status": "operational", "type": "resource",
                  "resource_id": "c03b02ec-244f-4d2c-8f68-3910071ed5c8"}
SEED_BODY = {
    "name": "Statuspage name", "description": "Statuspage description", "subdomain": "status",
    "type": "public", "password": "TestPassw0rd!", "domain": "status.pinghome.io",
    "page_name": "Example", "dark_theme": False,
    "favicon": "org/f14340fc-3321-42c7-a93b-9befeea8871e/images/img-1705147439.jpg",
    "logo": "org/f14340fc-3321-42c7-a93b-9befeea8871e/images/img-1705147439.jpg",
    "redirect_to_https": True, "remove_branding": True, "robots_meta_contents": ["index"],
    "website_url": "https://pinghome.io", "privacy_url": "https://pinghome.io/privacy-policy",
    "support_url": "https://pinghome.io/support", "ga_tracking": "UA-123123-1",
    "ip_addresses": ["8.8.8.8"], "subscription_enabled": True,
    "components": [SEED_COMPONENT],
    "groups": [{"name": "Group name", "components": [SEED_COMPONENT]}],
}
SEED_UPDATE = {key: value for key, value in SEED_BODY.items()
               if key not in ("components", "groups")}
SEED_UPDATE.update(type="private", update_password=True, page_name="Name",
                   logo="org/f14340fc-3321-42c7-a93b-9befeea8871e/image/img-1705147439.jpg")


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


@pytest.fixture
def monitor(cast):
    return make_monitor(make_service(cast.team))


def seed_body(monitor, **changes) -> dict:
    body = copy.deepcopy(SEED_BODY)
    body["components"][0]["resource_id"] = str(monitor.id)
    body["groups"][0]["components"][0]["resource_id"] = str(monitor.id)
    body.update(changes)
    return body


def create(client, token, body):
    return client.simulate_post("/v1/statuspage", json=body, headers=bearer(token))


def get(client, token, path):
    return client.simulate_get(path, headers=bearer(token))


def test_the_seeds_create_body_is_accepted_whole_and_read_back(client, cast, monitor):
    response = create(client, cast.alice_token, seed_body(monitor))
    assert response.status_code == 201, response.json
    page = response.json
    assert page["subdomain"] == "status" and page["domain"] == "status.pinghome.io"
    assert page["has_password"] is True and "password" not in page
    assert "password_hash" not in page
    assert page["ip_addresses"] == ["8.8.8.8/32"] and page["robots_meta_contents"] == ["index"]
    assert page["theme"] == {"page_name": "Example", "dark_theme": False,
                             "logo": SEED_BODY["logo"], "favicon": SEED_BODY["favicon"],
                             "remove_branding": True}
    [outside] = page["components"]
    [group] = page["groups"]
    assert outside["resource_id"] == str(monitor.id) and outside["status"] == "operational"
    assert group["name"] == "Group name" and len(group["components"]) == 1
    read = get(client, cast.bob_token, f"/v1/statuspage/{page['id']}")
    assert read.status_code == 200 and read.json["ga_tracking"] == "UA-123123-1"
    listed = get(client, cast.bob_token, "/v1/statuspages").json
    assert [p["id"] for p in listed["data"]] == [page["id"]] and listed["total"] == 1
    components = get(client, cast.bob_token, f"/v1/statuspage/{page['id']}/components").json
    assert [c["order"] for c in components["data"]] == [0, 1]
    unified = get(client, cast.bob_token, f"/v1/statuspage/{page['id']}/unified").json
    assert unified["groups"][0]["components"][0]["id"] == components["data"][1]["id"]


def test_the_seeds_update_body_keeps_the_components_and_replaces_the_password(
        client, cast, monitor):
    page = create(client, cast.alice_token, seed_body(monitor)).json
    first_hash = StatusPage.get_by_id(page["id"]).password_hash
    before = get(client, cast.alice_token, f"/v1/statuspage/{page['id']}/components").json
    response = client.simulate_put(f"/v1/statuspage/{page['id']}", json=SEED_UPDATE,
                                   headers=bearer(cast.alice_token))
    assert response.status_code == 200, response.json
    assert response.json["message"] == "Status page updated."
    assert response.json["type"] == "private" and response.json["page_name"] == "Name"
    stored = StatusPage.get_by_id(page["id"]).password_hash
    assert stored != first_hash and argon2.PasswordHasher().verify(stored, "TestPassw0rd!")
    after = get(client, cast.alice_token, f"/v1/statuspage/{page['id']}/components").json
    assert [c["id"] for c in after["data"]] == [c["id"] for c in before["data"]]
    replaced = client.simulate_put(f"/v1/statuspage/{page['id']}", json={
        "components": [{"name": "Manual", "type": "manual", "status": "degraded_performance"}]},
        headers=bearer(cast.alice_token)).json
    assert [c["status"] for c in replaced["components"]] == ["degraded_performance"]
    assert replaced["groups"] == [] and replaced["name"] == "Statuspage name"


def test_a_page_is_enabled_and_disabled_and_deleted(client, cast, monitor):
    page = create(client, cast.alice_token, seed_body(monitor)).json
    path = f"/v1/statuspage/{page['id']}"
    answer = client.simulate_put(f"{path}/status", json={"enabled": False},
                                 headers=bearer(cast.alice_token))
    assert answer.status_code == 200 and answer.json["enabled"] is False
    assert get(client, cast.alice_token, path).json["enabled"] is False
    assert client.simulate_put(f"{path}/status", json={"enabled": "false"},
                               headers=bearer(cast.alice_token)).status_code == 422
    deleted = client.simulate_delete(path, headers=bearer(cast.alice_token))
    assert deleted.status_code == 200 and deleted.json["message"] == "Status page deleted."
    assert get(client, cast.alice_token, path).status_code == 404


def test_users_read_but_do_not_write_and_another_organisation_sees_nothing(
        client, cast, monitor):
    assert create(client, cast.bob_token, seed_body(monitor)).status_code == 403
    page = create(client, cast.alice_token, seed_body(monitor)).json
    path = f"/v1/statuspage/{page['id']}"
    component_id = page["components"][0]["id"]
    assert client.simulate_delete(path, headers=bearer(cast.bob_token)).status_code == 403
    charlie = bearer(cast.charlie_token)
    for answer in (client.simulate_get(path, headers=charlie),
                   client.simulate_get(f"{path}/components", headers=charlie),
                   client.simulate_get(f"{path}/unified", headers=charlie),
                   client.simulate_get(f"/v1/component/{component_id}/statistics",
                                       headers=charlie),
                   client.simulate_put(path, json={"name": "Mine"}, headers=charlie),
                   client.simulate_put(f"{path}/status", json={"enabled": False},
                                       headers=charlie),
                   client.simulate_delete(path, headers=charlie)):
        assert answer.status_code == 404 and answer.json["error"]["code"] == "not_found"
    assert get(client, cast.charlie_token, "/v1/statuspages").json["data"] == []
    assert get(client, cast.alice_token, path).json["name"] == "Statuspage name"


def test_a_subdomain_or_domain_belongs_to_one_page(client, cast, monitor, settings):
    create(client, cast.alice_token, seed_body(monitor))
    again = create(client, cast.alice_token, seed_body(monitor, domain=None))
    assert again.status_code == 409 and "subdomain" in again.json["error"]["fields"]
    other = make_cast(settings)
    theirs = create(client, other.alice_token, {"name": "Theirs", "subdomain": "theirs",
                                                "domain": "STATUS.pinghome.io"})
    assert theirs.status_code == 409 and "domain" in theirs.json["error"]["fields"]
    mine = create(client, other.alice_token, {"name": "Theirs", "subdomain": "theirs"}).json
    # a page keeps its own subdomain on update
    assert client.simulate_put(f"/v1/statuspage/{mine['id']}", json={"subdomain": "theirs"},
                               headers=bearer(other.alice_token)).status_code == 200
    taken = client.simulate_put(f"/v1/statuspage/{mine['id']}", json={"subdomain": "status"},
                                headers=bearer(other.alice_token))
    assert taken.status_code == 409


@pytest.mark.parametrize("changes, field", [
    ({"subdomain": "status.example"}, "subdomain"),
    ({"subdomain": "a" * 300}, "subdomain"),
    ({"subdomain": "-status"}, "subdomain"),
    ({"subdomain": ""}, "subdomain"),
    ({"ip_addresses": ["10.0.0.0/33"]}, "ip_addresses.0"),
    ({"ip_addresses": ["not an address"]}, "ip_addresses.0"),
    ({"domain": "not a domain"}, "domain"),
    ({"type": "secret"}, "type"),
    ({"website_url": "javascript:alert(1)"}, "website_url"),
    ({"components": [{"name": "C", "type": "database"}]}, "components.0.type"),
    ({"components": [{"name": "C", "type": "resource", "status": "on fire"}]},
     "components.0.status"),
    ({"components": [{"name": "C", "type": "resource"}]}, "components.0.resource_id"),
    ({"groups": [{"name": "G", "components": [{"name": "C", "type": "heartbeat",
                                               "resource_id": "c03b02ec-244f-4d2c-8f68-"
                                                              "3910071ed5c8"}]}]},
     "groups.0.components.0.resource_id"),
])
def test_bad_pages_are_refused_with_the_field_named(client, cast, monitor, changes, field):
    response = create(client, cast.alice_token, seed_body(monitor, **changes))
    assert response.status_code == 422, response.json
    assert field in response.json["error"]["fields"]
    assert get(client, cast.alice_token, "/v1/statuspages").json["total"] == 0


def test_a_component_cannot_follow_another_organisations_monitor(client, cast, settings):
    other = make_cast(settings)
    theirs = make_monitor(make_service(other.team))
    response = create(client, cast.alice_token, seed_body(theirs))
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {
        "components.0.resource_id", "groups.0.components.0.resource_id"}


def test_a_put_cannot_clear_a_required_field(client, cast, monitor):
    page = create(client, cast.alice_token, seed_body(monitor)).json
    answer = client.simulate_put(f"/v1/statuspage/{page['id']}",
                                 json={"name": None, "dark_theme": None},
                                 headers=bearer(cast.alice_token))
    assert answer.status_code == 422
    assert set(answer.json["error"]["fields"]) == {"name", "dark_theme"}


def go_down(monitor, region="local"):
    monitor = Monitor.get_by_id(monitor.id)
    with held_jobs():
        recording.record(region, [outcome(monitor, 0, True)], {monitor.id: monitor},
                         now=clock.now())
        monitor = Monitor.get_by_id(monitor.id)
        recording.record(region, [outcome(monitor, 60, False)], {monitor.id: monitor},
                         now=clock.now())


def statuses(client, cast, page) -> list[str]:
    found = get(client, cast.bob_token, f"/v1/statuspage/{page['id']}/components").json
    return [c["status"] for c in found["data"]]


def test_a_component_follows_its_monitor_down(client, cast, monitor):
    page = create(client, cast.alice_token, seed_body(monitor)).json
    assert statuses(client, cast, page) == ["operational", "operational"]
    go_down(monitor)
    assert Monitor.get_by_id(monitor.id).status == "down"
    assert statuses(client, cast, page) == ["major_outage", "major_outage"]
    stats = get(client, cast.bob_token,
                f"/v1/component/{page['components'][0]['id']}/statistics")
    assert stats.status_code == 200, stats.json
    assert stats.json["status"] == "major_outage" and stats.json["duration_seconds"] >= 0
    assert len(stats.json["uptime"]) == 90 and stats.json["open_incidents"] == []


def test_a_monitor_down_in_one_region_of_two_is_a_partial_outage(client, cast):
    monitor = make_monitor(make_service(cast.team), regions=("eu", "us"))
    page = create(client, cast.alice_token, seed_body(monitor)).json
    go_down(monitor, "eu")
    assert Monitor.get_by_id(monitor.id).status != "down"
    assert statuses(client, cast, page) == ["partial_outage", "partial_outage"]


def test_an_incident_naming_a_component_sets_it_by_urgency_until_it_resolves(
        client, cast, monitor):
    page = create(client, cast.alice_token, seed_body(monitor)).json
    component_id = page["components"][0]["id"]
    incident = client.simulate_post(f"/v1/team/{cast.team.id}/incident", json={
        "name": "Slow", "urgency": "low", "actions": [{"type": "trigger-alerts", "settings": [
            {"status_page_id": page["id"], "component_id": component_id}]}]},
        headers=bearer(cast.alice_token))
    assert incident.status_code == 201, incident.json
    assert statuses(client, cast, page) == ["degraded_performance", "operational"]
    stats = get(client, cast.bob_token, f"/v1/component/{component_id}/statistics").json
    assert [i["id"] for i in stats["open_incidents"]] == [incident.json["id"]]
    client.simulate_put(f"/v1/incident/{incident.json['id']}", json={"urgency": "critical"},
                        headers=bearer(cast.alice_token))
    assert statuses(client, cast, page) == ["major_outage", "operational"]
    resolved = client.simulate_put(f"/v1/incident/{incident.json['id']}",
                                   json={"status": "resolved"}, headers=bearer(cast.alice_token))
    assert resolved.status_code == 200, resolved.json
    assert statuses(client, cast, page) == ["operational", "operational"]


def test_a_manual_component_shows_its_status_and_statistics_have_no_uptime(client, cast):
    page = create(client, cast.alice_token, {"name": "P", "subdomain": "p", "components": [
        {"name": "Billing", "type": "manual", "status": "under_maintenance"}]}).json
    [component] = page["components"]
    assert component["status"] == "under_maintenance" and component["resource_id"] is None
    stats = get(client, cast.bob_token, f"/v1/component/{component['id']}/statistics").json
    assert stats["status"] == "under_maintenance"
    assert {day["uptime_percent"] for day in stats["uptime"]} == {None}


def test_unknown_ids_are_404(client, cast):
    unknown = "00000000-0000-4000-8000-000000000000"
    for path in (f"/v1/statuspage/{unknown}", f"/v1/statuspage/{unknown}/unified",
                 f"/v1/component/{unknown}/statistics", "/v1/statuspage/not-a-uuid"):
        assert get(client, cast.alice_token, path).status_code == 404


def test_a_put_keeps_the_components_it_names_by_id_and_refuses_foreign_ids(
        client, cast, monitor, settings):
    page = create(client, cast.alice_token, seed_body(monitor)).json
    outside, grouped = page["components"][0], page["groups"][0]["components"][0]
    path = f"/v1/statuspage/{page['id']}"
    moved = client.simulate_put(path, json={"groups": [
        {"id": page["groups"][0]["id"], "name": "Renamed", "components": [
            {"id": outside["id"], "name": "Moved", "type": "manual", "status": "major_outage"}]}]},
        headers=bearer(cast.alice_token))
    assert moved.status_code == 200, moved.json
    [group] = moved.json["groups"]
    assert (group["id"], group["name"]) == (page["groups"][0]["id"], "Renamed")
    assert [(c["id"], c["status"]) for c in group["components"]] == [
        (outside["id"], "major_outage")]
    assert moved.json["components"] == []
    others = create(client, make_cast(settings).alice_token, {
        "name": "O", "subdomain": "o", "components": [{"name": "X", "type": "manual"}]}).json
    refused = client.simulate_put(path, json={"components": [
        {"id": others["components"][0]["id"], "name": "X", "type": "manual"},
        {"id": grouped["id"], "name": "Gone", "type": "manual"}]},
        headers=bearer(cast.alice_token))
    assert refused.status_code == 422
    assert set(refused.json["error"]["fields"]) == {"components.0.id", "components.1.id"}


def test_heartbeat_and_server_components_follow_their_subjects_with_daily_uptime(
        client, cast):
    import datetime as dt

    from models import state_changes
    from models.heartbeats.tables import Heartbeat
    from models.servers.tables import Server
    service, now = make_service(cast.team), clock.now()
    start = now - dt.timedelta(days=2)
    heartbeat = Heartbeat.create(service=service, name="Backup", methods=["GET"],
                                 interval_seconds=60, grace_seconds=30, created_at=start,
                                 updated_at=start)
    server = Server.create(service=service, name="db1", token="t" * 32, created_at=start,
                           updated_at=start)
    page = create(client, cast.alice_token, {"name": "P", "subdomain": "p", "components": [
        {"name": "Backup", "type": "heartbeat", "resource_id": str(heartbeat.id)},
        {"name": "Database", "type": "server", "resource_id": str(server.id)}]}).json
    assert statuses(client, cast, page) == ["operational", "operational"]
    with held_jobs():
        state_changes.record("heartbeat", heartbeat.id, from_status="new", to_status="up",
                             cause=None, at=start, trigger="t1", now=now)
        down_at = now - dt.timedelta(hours=1)
        state_changes.record("heartbeat", heartbeat.id, from_status="up", to_status="down",
                             cause=None, at=down_at, trigger="t2", now=now)
    Heartbeat.update(status="down", status_changed_at=down_at).execute()
    Server.update(status="down", status_changed_at=now).execute()
    assert statuses(client, cast, page) == ["major_outage", "major_outage"]
    stats = get(client, cast.bob_token,
                f"/v1/component/{page['components'][0]['id']}/statistics").json
    assert stats["status"] == "major_outage" and stats["duration_seconds"] >= 3600
    days = [day["uptime_percent"] for day in stats["uptime"]]
    assert days[:-3] == [None] * 87
    today, yesterday = (days[-1], days[-2]) if down_at.date() == now.date() else (
        days[-2], days[-3])      # in the first hour of a day, it went down the day before
    assert yesterday == 100.0 and today is not None and today < 100.0


def test_a_monitor_in_its_maintenance_window_is_under_maintenance(client, cast):
    monitor = make_monitor(make_service(cast.team), maintenance_cron_expression="* * * * *",
                           maintenance_duration=5)
    page = create(client, cast.alice_token, seed_body(monitor)).json
    go_down(monitor)
    assert statuses(client, cast, page) == ["under_maintenance", "under_maintenance"]


def test_a_private_page_needs_a_password_or_addresses(client, cast):
    bare = {"name": "P", "subdomain": "p", "type": "private"}
    refused = create(client, cast.alice_token, bare)
    assert refused.status_code == 422 and "password" in refused.json["error"]["fields"]
    page = create(client, cast.alice_token, {**bare, "ip_addresses": ["10.0.0.0/8"]}).json
    path = f"/v1/statuspage/{page['id']}"
    cleared = client.simulate_put(path, json={"ip_addresses": []},
                                  headers=bearer(cast.alice_token))
    assert cleared.status_code == 422
    with_password = client.simulate_put(path, json={
        "ip_addresses": [], "password": "S3cret-pass", "update_password": True},
        headers=bearer(cast.alice_token))
    assert with_password.status_code == 200 and with_password.json["has_password"] is True
    kept = client.simulate_put(path, json={"password": "ignored"},
                               headers=bearer(cast.alice_token))
    assert kept.status_code == 200 and kept.json["has_password"] is True
