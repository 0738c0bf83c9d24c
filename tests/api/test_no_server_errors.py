"""No input a client can send causes a 500: every documented operation, fed bad bodies,
bad query values and bad path parameters, answers a 4xx (or a 2xx) with the JSON error shape.

The operations come from `/openapi.json`, so an endpoint added later is walked too.
"""
from __future__ import annotations

import json
import re

import pytest

from models import ratelimit
from tests.factories.accounts import bearer, make_customer, sign_in

NASTY_VALUES = [None, True, 0, -1, 2**70, 1.5, "", " ", "x" * 5000, "\u0000", "😀", "%s",
                "'; DROP TABLE customer; --", [], [1, "a"], {}, {"nested": {"deep": [None]}}]
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


def _paths(path: str):
    if "{" not in path:
        return [path]
    return [re.sub(r"{\w+}", value, path) for value in PATH_VALUES]


def _bodies(fields):
    for raw in NASTY_BODIES:
        yield raw
    for field in fields:
        for value in NASTY_VALUES:
            yield json.dumps({field: value}).encode()
    for value in NASTY_VALUES:
        yield json.dumps({field: value for field in fields}).encode()


def test_no_operation_answers_a_server_error(client, settings, operations):
    customer = make_customer(settings)
    failures = []
    for method, path, fields, query in operations:
        ratelimit.reset()   # a fresh token per operation: one of them signs out
        token = sign_in(settings, customer).access_token
        for concrete in _paths(path):
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
