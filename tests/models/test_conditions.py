"""Conditions: parsed once (bad ones named), then evaluated over responses."""
from __future__ import annotations

import pytest

from models.errors import Invalid
from models import conditions

BODY = b'{"groups": {"user": [{"name": "pinghome", "age": 3, "tags": []}]}, "ok": true, "n": 2.5}'
RESPONSE = conditions.Response(200, 120.0, {"content-type": "application/json; charset=utf-8"},
                               BODY)


def holds(condition: dict, response=RESPONSE) -> bool:
    return conditions.evaluate(conditions.parse([condition]), response) is None


@pytest.mark.parametrize("condition, expected", [
    ({"type": "response-json-check", "key": "groups.user[0].name", "operator": "equal", "values": ["pinghome"]}, True),
    ({"type": "response-json-check", "key": "groups.user[0].name", "operator": "not-equal", "values": ["pinghome"]}, False),
    ({"type": "json-check", "key": "groups.user[0].name", "operator": "contains", "values": ["ping"]}, True),
    ({"type": "json-check", "key": "groups.user[0].name", "operator": "not-contains", "values": ["pong"]}, True),
    ({"type": "json-check", "key": "groups.user[0].age", "operator": "greater-than", "values": [2]}, True),
    ({"type": "json-check", "key": "groups.user[0].age", "operator": "less-than", "values": ["3"]}, False),
    ({"type": "json-check", "key": "groups.user[0].tags", "operator": "empty"}, True),
    ({"type": "json-check", "key": "groups.user[1].name", "operator": "empty"}, True),
    ({"type": "json-check", "key": "groups.user[0]", "operator": "not-empty"}, True),
    ({"type": "json-check", "key": "ok", "operator": "equal", "values": [True]}, True),
    ({"type": "json-check", "key": "n", "operator": "equal", "values": [2.5]}, True),
    ({"type": "json-check", "key": "groups.user[0].name", "operator": "matches", "values": ["^ping.*e$"]}, True),
    ({"type": "json-check", "key": "missing.path", "operator": "equal", "values": ["x"]}, False),
    ({"type": "json-check", "key": "missing.path", "operator": "not-equal", "values": ["x"]}, True),
    ({"type": "status-code", "operator": "equal", "values": [200, 201]}, True),
    ({"type": "status-code", "operator": "equal", "values": ["201"]}, False),
    ({"type": "status-code", "operator": "less-than", "values": [300]}, True),
    ({"type": "response-time", "operator": "less-than", "values": [100]}, False),
    ({"type": "header", "key": "Content-Type", "operator": "contains", "values": ["json"]}, True),
    ({"type": "header", "key": "x-missing", "operator": "empty"}, True),
    ({"type": "body", "operator": "contains", "values": ["pinghome"]}, True),
    ({"type": "body", "operator": "not-contains", "values": ["error"]}, True),
    ({"type": "body", "operator": "matches", "values": ["\"age\": \\d+"]}, True),
])
def test_conditions_hold_or_not(condition, expected):
    assert holds(condition) is expected


def test_a_body_that_is_not_json_fails_json_conditions():
    plain = conditions.Response(200, 1.0, {}, b"<html>")
    assert not holds({"type": "json-check", "key": "a", "operator": "equal", "values": [1]}, plain)


def test_the_first_failing_condition_is_described():
    parsed = conditions.parse([
        {"type": "status-code", "operator": "equal", "values": [200]},
        {"type": "json-check", "key": "groups.user[0].age", "operator": "greater-than", "values": [10]},
    ])
    assert conditions.evaluate(parsed, RESPONSE) == (
        "condition failed: json 'groups.user[0].age' greater 10.0")


@pytest.mark.parametrize("raw, field", [
    ([{"type": "telepathy", "operator": "equal", "values": [1]}], "conditions.0"),
    ([{"type": "body", "operator": "resembles", "values": [1]}], "conditions.0"),
    ([{"type": "body", "operator": "equal"}], "conditions.0"),
    ([{"type": "json-check", "operator": "equal", "values": [1]}], "conditions.0"),
    ([{"type": "json-check", "key": "a[x]", "operator": "equal", "values": [1]}], "conditions.0"),
    ([{"type": "status-code", "operator": "greater-than", "values": ["many"]}], "conditions.0"),
    ([{"type": "body", "operator": "matches", "values": ["(unclosed"]}], "conditions.0"),
    ([{"type": "body", "operator": "equal", "values": [{"nested": 1}]}], "conditions.0"),
    ([{"type": "body", "operator": "equal", "values": ["ok"]}, "not an object"], "conditions.1"),
    ("not a list", "conditions"),
])
def test_a_bad_condition_is_named_not_crashed_on(raw, field):
    with pytest.raises(Invalid) as caught:
        conditions.parse(raw)
    assert field in caught.value.fields


def test_a_pathological_pattern_gives_up_instead_of_hanging():
    slow = conditions.Response(200, 1.0, {}, b"a" * 5000 + b"!")
    assert not holds({"type": "body", "operator": "matches", "values": ["(a+)+$x"]}, slow)
