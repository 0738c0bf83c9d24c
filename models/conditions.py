"""The one condition language: `{type, key, operator, values}`, all of which must hold, over
a probe's response (http monitors) or a JSON document (incident rulesets: a state change, a
webhook's payload; `Response.of_document`).

`parse` is the only way in: it validates (an unknown type or operator is a 422 naming the
condition) and compiles once; `evaluate` runs the compiled conditions. Regular expressions run with a time limit (the `regex`
library, releasing the GIL while it matches), a monitor holds at most `MAX_PATTERNS` of them,
and all its conditions share one time budget (the check's timeout, less what the request
took), so a pathological pattern costs its own check a bounded time and no one else any.
"""
from __future__ import annotations

import dataclasses
import json
import re
import time
from typing import Any

import regex

from models.errors import Invalid

TYPES = {
    "status-code": "status_code", "status_code": "status_code",
    "response-time": "response_time", "response_time": "response_time",
    "header": "header", "response-header-check": "header",
    "body": "body", "response-body-check": "body", "keyword": "body",
    "response-json-check": "json", "json-check": "json", "json": "json",
}
OPERATORS = {
    "equal": "equal", "equals": "equal", "eq": "equal",
    "not-equal": "not_equal", "not_equal": "not_equal", "ne": "not_equal",
    "contains": "contains", "not-contains": "not_contains", "not_contains": "not_contains",
    "greater-than": "greater", "greater_than": "greater", "gt": "greater",
    "greater-or-equal": "greater_equal", "gte": "greater_equal",
    "less-than": "less", "less_than": "less", "lt": "less",
    "less-or-equal": "less_equal", "lte": "less_equal",
    "empty": "empty", "is-empty": "empty", "not-empty": "not_empty", "is-not-empty": "not_empty",
    "matches": "matches", "regex": "matches",
}
NUMERIC = {"greater", "greater_equal", "less", "less_equal"}
NO_VALUES = {"empty", "not_empty"}
REGEX_TIMEOUT_SECONDS = 0.1
MAX_PATTERNS = 10            # regular expressions over all of a monitor's conditions
MAX_PATTERN_LENGTH = 500
MAX_CONDITIONS = 50         # a monitor's or a ruleset's; the API schemas declare it too
_MISSING = object()
_PATH = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


@dataclasses.dataclass(frozen=True)
class Condition:
    type: str
    key: str | None
    operator: str
    values: tuple
    path: tuple = ()            # compiled JSON path: str keys and int indexes

    def describe(self) -> str:
        subject = {"status_code": "status code", "response_time": "response time (ms)",
                   "body": "body"}.get(self.type) or f"{self.type} {self.key!r}"
        shown = ", ".join(str(v) for v in self.values)
        return f"{subject} {self.operator.replace('_', ' ')} {shown}".strip()


@dataclasses.dataclass
class Response:
    """What conditions look at; the JSON is parsed at most once, only if a condition asks."""
    status_code: int | None
    response_ms: float | None
    headers: dict
    body: bytes
    _json: Any = _MISSING

    @classmethod
    def of_document(cls, document, body: bytes | None = None) -> "Response":
        """A JSON document to hold conditions against: `json` conditions read its keys, `body`
        conditions its text (`body`, else the document as JSON)."""
        if body is None:
            body = json.dumps(document, separators=(",", ":")).encode()
        return cls(None, None, {}, body, document)

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        if self._json is _MISSING:
            try:
                self._json = json.loads(self.body)
            except (ValueError, RecursionError):     # not JSON, or nested past the stack
                self._json = None
        return self._json


class BudgetSpent(Exception):
    """The conditions ran out of the check's time."""


def parse(raw) -> list[Condition]:
    """Validates and compiles a list of condition objects; `Invalid` names each bad one."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_CONDITIONS:
        raise Invalid(f"conditions must be a list of at most {MAX_CONDITIONS} objects.",
                      fields={"conditions": f"must be a list of at most {MAX_CONDITIONS} objects"})
    problems, parsed = {}, []
    for index, item in enumerate(raw):
        try:
            parsed.append(_parse_one(item))
        except ValueError as exc:
            problems[f"conditions.{index}"] = str(exc)
    patterns = sum(len(c.values) for c in parsed if c.operator == "matches")
    if patterns > MAX_PATTERNS:
        problems["conditions"] = (f"{patterns} regular expressions; at most {MAX_PATTERNS} "
                                  "over all conditions")
    if problems:
        raise Invalid("Some conditions are invalid.", fields=problems)
    return parsed


def dump(conditions: list[Condition]) -> list[dict]:
    return [{"type": c.type.replace("_", "-"), "key": c.key, "operator": c.operator.replace("_", "-"),
             "values": list(c.values)} for c in conditions]


def evaluate(conditions: list[Condition], response: Response, *,
             budget_seconds: float | None = None) -> str | None:
    """None if every condition holds, else the first one that does not, described; past
    `budget_seconds` (none: only each pattern's own limit), the check fails as timed out."""
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    try:
        for condition in conditions:
            if not _holds(condition, response, deadline):
                return f"condition failed: {condition.describe()}"
    except BudgetSpent:
        return f"the conditions took longer than the check's {budget_seconds:.1f} s left"
    return None


def _parse_one(item) -> Condition:
    if not isinstance(item, dict):
        raise ValueError("must be an object with type, key, operator and values")
    kind = TYPES.get(str(item.get("type", "")).lower())
    if kind is None:
        raise ValueError(f"unknown type {item.get('type')!r}; use one of "
                         "status-code, response-time, header, body, response-json-check")
    operator = OPERATORS.get(str(item.get("operator", "")).lower())
    if operator is None:
        raise ValueError(f"unknown operator {item.get('operator')!r}; use one of equal, "
                         "not-equal, contains, not-contains, greater-than, less-than, "
                         "empty, not-empty, matches")
    key = item.get("key")
    if kind in ("header", "json") and (not isinstance(key, str) or not key.strip()):
        raise ValueError(f"a {item['type']} condition needs a key")
    values = _values(item.get("values", []), operator)
    path = parse_path(key) if kind == "json" else ()
    return Condition(kind, key.strip().lower() if kind == "header" else key, operator, values,
                     path)


def _values(raw, operator) -> tuple:
    if not isinstance(raw, list) or len(raw) > 50:
        raise ValueError("values must be a list of at most 50 items")
    if any(not isinstance(v, (str, int, float, bool)) or isinstance(v, str) and len(v) > 1000
           for v in raw):
        raise ValueError("values must be strings or numbers (strings up to 1000 characters)")
    if operator in NO_VALUES:
        return ()
    if not raw:
        raise ValueError(f"the {operator.replace('_', '-')} operator needs values")
    if operator in NUMERIC:
        try:
            return tuple(float(v) for v in raw)
        except ValueError:
            raise ValueError("this operator compares numbers") from None
    if operator == "matches":
        for pattern in raw:
            if len(str(pattern)) > MAX_PATTERN_LENGTH:
                raise ValueError(f"a regular expression has at most {MAX_PATTERN_LENGTH} "
                                 "characters")
            try:
                regex.compile(str(pattern))
            except regex.error as exc:
                raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from None
    return tuple(raw)


def parse_path(key: str) -> tuple:
    """A JSON path such as `groups.user[0].name` as its keys and indexes; `ValueError` if it
    cannot be read."""
    parts = []
    position = 0
    for match in _PATH.finditer(key.strip()):
        if match.start() != position and key.strip()[position:match.start()] != ".":
            raise ValueError(f"cannot read the JSON path {key!r}")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not parts or position != len(key.strip()):
        raise ValueError(f"cannot read the JSON path {key!r}")
    return tuple(parts)


def _subject(condition: Condition, response: Response):
    if condition.type == "status_code":
        return response.status_code
    if condition.type == "response_time":
        return response.response_ms
    if condition.type == "header":
        return response.headers.get(condition.key, _MISSING)
    if condition.type == "body":
        return response.text()
    return read_path(response.json(), condition.path)


def read_path(document, path: tuple, missing=_MISSING):
    """The value at `path` (`parse_path`) in a JSON document, or `missing`."""
    value = document
    for part in path:
        if isinstance(part, int) and isinstance(value, list) and -len(value) <= part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return missing
    return value


def _holds(condition: Condition, response: Response, deadline: float | None) -> bool:
    if deadline is not None and time.monotonic() >= deadline:
        raise BudgetSpent
    subject = _subject(condition, response)
    operator = condition.operator
    if operator in ("empty", "not_empty"):
        empty = subject is _MISSING or subject is None or subject in ("", [], {})
        return empty if operator == "empty" else not empty
    if subject is _MISSING or subject is None:
        return operator in ("not_equal", "not_contains")
    if operator in NUMERIC:
        return _compare(subject, operator, condition.values[0])
    text = _as_text(subject)
    wanted = [_as_text(value) for value in condition.values]
    if operator == "equal":
        return text in wanted
    if operator == "not_equal":
        return text not in wanted
    if operator == "contains":
        return any(v in text for v in wanted)
    if operator == "not_contains":
        return not any(v in text for v in wanted)
    return any(_search(pattern, text, deadline) for pattern in wanted)


def _as_text(value) -> str:
    """One text form for comparing JSON values with the values a user typed: true, 200, 1.5."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _compare(subject, operator, wanted: float) -> bool:
    try:
        number = float(subject)
    except (TypeError, ValueError):
        return False
    return {"greater": number > wanted, "greater_equal": number >= wanted,
            "less": number < wanted, "less_equal": number <= wanted}[operator]


def _search(pattern: str, text: str, deadline: float | None) -> bool:
    limit = REGEX_TIMEOUT_SECONDS
    if deadline is not None:
        limit = min(limit, deadline - time.monotonic())
        if limit <= 0:
            raise BudgetSpent
    try:
        return regex.search(pattern, text, timeout=limit, concurrent=True) is not None
    except TimeoutError:
        if deadline is not None and time.monotonic() >= deadline:
            raise BudgetSpent from None
        return False
