"""No input a client can send causes a 500: every documented operation, fed bad bodies,
bad query values and bad path parameters, answers a 4xx (or a 2xx) with the JSON error shape.

The operations come from `/openapi.json`, so an endpoint added later is walked too.
"""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from models import ratelimit
from tests.factories.accounts import bearer, make_customer, sign_in

NASTY_VALUES = [None, True, 0, -1, 2**70, 1.5, "", " ", "x" * 5000, "\u0000", "😀", "\ud800",
                "%s", "'; DROP TABLE customer; --", [], [1, "a"], {},
                {"nested": {"deep": [None]}}]
NASTY_BODIES = [b"", b"{", b"null", b"[]", b"\"s\"", b"1e999", b"{\"a\": NaN}",
                b"\xff\xfe", b"{}" * 3]
PATH_VALUES = ["00000000-0000-0000-0000-000000000000", "not-a-uuid", "1", "%00", "a" * 300]


@pytest.fixture(scope="module")
def operations(app):
    import falcon.testing
    document = falcon.testing.TestClient(app).simulate_get("/openapi.json").json
    schemas = document["components"]["schemas"]
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            ref = (operation.get("requestBody", {}).get("content", {})
                   .get("application/json", {}).get("schema", {}).get("$ref"))
            fields = list(schemas[ref.rsplit("/", 1)[1]].get("properties", {})) if ref else []
            query = [p["name"] for p in operation["parameters"] if p["in"] == "query"]
            found.append((method.upper(), path, fields, query))
    return found


def _paths(path: str, owned: dict):
    """The path with each parameter set to garbage, then to ids the caller owns."""
    if "{" not in path:
        return [path]
    concrete = [re.sub(r"{\w+}", value, path) for value in PATH_VALUES]
    concrete.append(re.sub(r"{(\w+)}", lambda m: owned.get(m.group(1), PATH_VALUES[0]), path))
    return concrete


def _owned(settings, customer) -> dict:
    """Ids of things `customer` owns, to reach past the lookups into the domain checks."""
    from models import clock, services
    from models.accounts import Caller
    from models.oncall import ocs, on_demand
    from models.oncall.contacts import ensure_contacts
    from models.oncall.tables import Contact
    from models.statuspages import operations as statuspages
    team = customer.memberships.get().team
    service = services.create_service(Caller(customer, None), name="Fuzzed", team_id=team.id,
                                      now=clock.now())
    caller = Caller(customer, None)
    schedule = ocs.create_schedule(caller, {"name": "Fuzzed"}, now=clock.now())
    ensure_contacts(customer.organisation_id)
    shift = on_demand.create_shift(
        caller, tier_id=ocs.tiers_of(schedule)[0].id, sure=False,
        contact=Contact.get(Contact.customer == customer.id).id, start_at=clock.now(),
        end_at=clock.now() + dt.timedelta(hours=1), now=clock.now())
    page = statuspages.create_page(caller, {"name": "Fuzzed", "subdomain": f"f{customer.id}",
                                            "components": [{"name": "C", "type": "manual"}]},
                                   now=clock.now())
    return {"customer_id": str(customer.id), "team_id": str(team.id),
            "service_id": str(service.id), "member_id": str(customer.id),
            "schedule_id": str(schedule.id), "tier_id": str(shift.tier_id),
            "shift_id": str(shift.id), "page_id": str(page.id),
            "component_id": str(page.components.get().id)}


def _bodies(fields):
    for raw in NASTY_BODIES:
        yield raw
    for field in fields:
        for value in NASTY_VALUES:
            yield json.dumps({field: value}).encode()
    for value in NASTY_VALUES:
        yield json.dumps({field: value for field in fields}).encode()


SHARDS = 8   # the walk grows with every endpoint: each shard takes every eighth operation


@pytest.mark.parametrize("shard", range(SHARDS))
def test_no_operation_answers_a_server_error(client, settings, operations, shard):
    failures = []
    for method, path, fields, query in operations[shard::SHARDS]:
        ratelimit.reset()   # a fresh account per operation: some sign out, one deletes it
        customer = make_customer(settings)
        token = sign_in(settings, customer).access_token
        for concrete in _paths(path, _owned(settings, customer)):
            for headers in ({}, bearer(token)):
                for raw in _bodies(fields) if method != "GET" else [b""]:
                    response = client.simulate_request(method, concrete, body=raw, headers=headers)
                    _check(response, method, concrete, raw, failures)
                for name in query:
                    for value in ("", "-1", "abc", "x" * 3000, "2026-13-45"):
                        response = client.simulate_request(method, concrete, headers=headers,
                                                           params={name: value})
                        _check(response, method, concrete, f"?{name}={value[:20]}", failures)
    assert not failures, "\n".join(failures[:20])


def _check(response, method, path, sent, failures):
    if response.status_code >= 500:
        failures.append(f"{method} {path} {sent!r:.80}: {response.status_code} {response.text:.200}")
    elif response.status_code >= 400 and "error" not in (response.json or {}):
        failures.append(f"{method} {path}: {response.status_code} without the error shape")
