"""Whatever one monitor's check does, it fails only itself: a poison check recorded in a batch
with healthy monitors of another organisation leaves theirs recorded as they were."""
from __future__ import annotations

import uuid

import pytest

from models import clock
from models import conditions
from models.monitors.tables import Monitor
from models.organisations import Organisation
from models.results import CheckResult
from tests.factories.accounts import bearer, make_customer
from tests.factories.monitors import make_monitor
from tests.factories.organisations import first_team, make_cast, make_service
from workers import probing

ENDLESS_REGEX = {"type": "body", "operator": "matches", "values": ["(a|aa)+$"]}


def never_firing_maintenance(url):
    return {"url": url + "/ok", "maintenance_cron_expression": "0 0 30 2 *",
            "maintenance_duration": 60}


def deeply_nested_json(url):
    return {"url": url + "/nested", "conditions": [
        {"type": "json", "key": "status", "operator": "equal", "values": ["ok"]}]}


def too_many_patterns(url):      # stored before patterns were limited
    return {"url": url + "/ok", "conditions": [ENDLESS_REGEX] * (conditions.MAX_PATTERNS + 5)}


def non_ascii_url(url):
    return {"url": url + "/bücher"}


def non_ascii_header(url):
    return {"url": url + "/ok", "headers": {"X-Team": "Bücher"}}


@pytest.mark.parametrize("poison", [never_firing_maintenance, deeply_nested_json,
                                    too_many_patterns, non_ascii_url, non_ascii_header])
def test_a_poison_check_fails_only_itself_in_a_batch_with_other_tenants_monitors(
        settings, target, poison):
    target.answers["/nested"] = (200, b"[" * 100_000)
    healthy = [make_monitor(make_service(first_team(make_customer(settings))),
                            url=f"{target.url}/ok") for _ in range(3)]
    victim_service = make_service(first_team(make_customer(settings)))
    poisoned = make_monitor(victim_service, **poison(target.url))    # as stored, unchecked
    due = int(clock.now().timestamp())
    entries = [[str(m.id), m.version] for m in [healthy[0], poisoned, *healthy[1:]]]
    assert probing.run_batch("local", due, entries, settings=settings, now=clock.now()) == 4
    results = {uuid.UUID(str(r.monitor_id)): r for r in CheckResult.select()}
    assert all(results[m.id].ok for m in healthy)
    assert poisoned.id in results


def test_conditions_share_the_check_budget_and_stop_when_it_is_spent():
    # the condition holds at its last pattern; each one before stops at its own limit
    slow = {"type": "body", "operator": "matches",
            "values": ["(a|aa)+$"] * (conditions.MAX_PATTERNS - 1) + ["b$"]}
    response = conditions.Response(200, 10.0, {}, b"a" * 40 + b"b")
    assert conditions.evaluate(conditions.parse([slow]), response) is None
    verdict = conditions.evaluate(conditions.parse([slow]), response, budget_seconds=0.25)
    assert verdict.startswith("the conditions took longer than")


def test_more_regular_expressions_than_allowed_are_refused(client, settings):
    cast = make_cast(settings, bob_role="manager")
    Organisation.update(plan="business").execute()
    service = make_service(cast.team)
    response = client.simulate_post("/v1/resource", json={
        "name": "Patterns", "type": "http", "url": "https://example.com/",
        "service_id": str(service.id), "conditions": [ENDLESS_REGEX] * 11},
        headers=bearer(cast.alice_token))
    assert response.status_code == 422 and "conditions" in response.json["error"]["fields"]


@pytest.mark.parametrize("fields, field", [
    ({"maintenance_cron_expression": "0 0 30 2 *", "maintenance_duration": 30},
     "maintenance_cron_expression"),
    ({"headers": {"X-Team": "Bücher"}}, "headers.X-Team"),       # the header is named
])
def test_a_maintenance_that_never_starts_and_a_non_ascii_header_are_refused(client, settings,
                                                                           fields, field):
    cast = make_cast(settings, bob_role="manager")
    service = make_service(cast.team)
    response = client.simulate_post("/v1/resource", json={
        "name": "Odd", "type": "http", "url": "https://example.com/",
        "service_id": str(service.id), "interval": 60, **fields},
        headers=bearer(cast.alice_token))
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_an_internationalised_url_is_kept_as_it_goes_on_the_wire(client, settings):
    cast = make_cast(settings, bob_role="manager")
    service = make_service(cast.team)
    response = client.simulate_post("/v1/resource", json={
        "name": "Books", "type": "http", "url": "https://bücher.example/straße?q=ä",
        "service_id": str(service.id), "interval": 60}, headers=bearer(cast.alice_token))
    assert response.status_code == 201, response.json
    assert response.json["url"] == "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%A4"


def test_the_statistic_of_a_monitor_whose_maintenance_never_starts_answers(client, settings):
    cast = make_cast(settings, bob_role="manager")
    monitor = make_monitor(make_service(cast.team), maintenance_cron_expression="0 0 30 2 *",
                           maintenance_duration=60)
    for path in ("statistic", "state-changed-logs"):
        response = client.simulate_get(f"/v1/resource/{monitor.id}/{path}",
                                       headers=bearer(cast.alice_token))
        assert response.status_code == 200, (path, response.json)
    assert Monitor.get_by_id(monitor.id).maintenance_cron_expression == "0 0 30 2 *"
