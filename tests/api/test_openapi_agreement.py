"""`/openapi.json` agrees with the domain: every bound the document states on a create or update
body, or on a query parameter, is the bound the API enforces, no tighter and no looser.

Covered: the bodies in `BODIES` (create and update of uptime monitors, heartbeats, server
monitors, services, teams, notification channels of a customer and of a team, incident
rulesets, status pages and team on-call schedule entries), on every operation of the document
that takes one. The test reads each body's schema from `/openapi.json` as the app serves it,
finds every bound there (minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength,
maxLength, minItems, maxItems, maxProperties, enum, const) at any depth the valid body reaches
(nested objects, array items, object values), and sends the valid body with that one value
changed:

- just inside (the bound itself; each member of an enum) must not be a 422 naming the field,
  a field inside it or the field it is in: the domain refuses nothing the document allows;
- just outside (one past the bound; a value outside the enum) must be a 422 naming the field
  or a field inside it: the document states nothing that nobody enforces.

So a bound added to the domain but not to the schema fails the first half, and one taken out of
the schema fails the second. The bounds come from the document only; the test's own tables are
the valid bodies, `GRAMMAR` and `TOGETHER`. Query parameters are walked the same way, on every
GET whose path names only ids the test makes (its one-valued parameters, each sent alone).

Not covered: the bodies of other endpoints (actions, OCS, accounts, billing ...), the query
parameters of other methods and paths, and list-valued ones; patterns and formats (a value
that breaks a pattern is not made up; a field with a pattern or format is only tried outside
its length bounds); fields whose value has a grammar the document does not state (`GRAMMAR`:
URLs, host names, cron expressions, time zones, channel values by type, JSON paths, region
names of the installation, assignee ids), which are tried outside their bounds but not at
them, since no valid value of that length can be made by cutting or padding; bounds that
depend on the plan or the settings (a plan's shortest interval or regions per monitor, the
installation's regions), which the field's description states; arrays the valid body leaves
out (there is no item to repeat); rules between fields (`TOGETHER` gives the companion a bound
needs, and the timeout up to the interval is met by the valid body's interval).
"""
from __future__ import annotations

import copy
import dataclasses
import itertools
import re
import uuid

import falcon.testing
import pytest

from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast, make_service

_numbers = itertools.count(1)
CONDITION = {"type": "status-code", "operator": "equal", "values": [200]}

# Fields whose valid values have a grammar the schema does not state (by path, `*` for any
# index or key): they are tried just outside their bounds only.
GRAMMAR = {
    "url", "host", "schedule", "maintenance_cron_expression", "timezone", "value", "dedup_key",
    "regions.*", "assignees.*.id", "ip_addresses.*",
}
# A value of a field that needs another field changed with it: maintenance_duration 0 is no
# maintenance, so the cron expression goes too.
TOGETHER = {("maintenance_duration", 0): {"maintenance_cron_expression": ""}}


def _unique(prefix: str) -> str:
    return f"{prefix} {next(_numbers)}"


def monitor_body(world) -> dict:
    return {"name": _unique("Website"), "type": "http", "url": "https://example.com/health",
            "service_id": world.service_id, "method": "POST", "body": "a=1", "data": "pinghome",
            "port": 443, "headers": {"Authorization": "Bearer token"},
            "conditions": [CONDITION], "regions": ["local"], "grace_period": 0,
            "recovery_period": 0, "maintenance_cron_expression": "*/8 * * * *",
            "maintenance_duration": 5, "interval": 60, "timeout": 10, "skip_ssl_error": False}


def heartbeat_body(world) -> dict:
    return {"name": _unique("Backup"), "service_id": world.service_id,
            "methods": ["GET", "POST"], "interval": 3600, "grace": 300,
            "timezone": "Europe/Berlin", "max_run_seconds": 60}


def server_body(world) -> dict:
    return {"name": _unique("Box"), "service_id": world.service_id, "description": "The box",
            "timezone": "Europe/Berlin", "chart_type_default": "line"}


def server_update_body(world) -> dict:
    return {**server_body(world), "enabled": True}


def service_body(world) -> dict:
    return {"name": _unique("Service"), "team_id": world.team_id}


def name_body(world) -> dict:
    return {"name": _unique("Name")}


def channel_body(world) -> dict:
    return {"value": f"{world.hook_url}/{uuid.uuid4().hex}", "type": "webhook"}


def channel_update_body(world) -> dict:
    return {"value": f"{world.hook_url}/{uuid.uuid4().hex}", "priority": 1}


def ruleset_body(world) -> dict:
    return {"rule_type": "state-change", "level": "team", "team_id": world.team_id,
            "name": _unique("Rules"), "description": "Description", "urgency": "medium",
            "conditions": [{"type": "json", "key": "status", "operator": "equal",
                            "values": ["down"]}],
            "assignees": [{"type": "team", "id": world.team_id}], "priority": 1,
            "escalation_delay_minutes": 5, "renotify_minutes": 5}


def page_body(world) -> dict:
    return {"name": _unique("Status"), "subdomain": f"p-{uuid.uuid4().hex[:12]}",
            "type": "public", "description": "Our status", "page_name": "Status",
            "favicon": "favicon.ico", "logo": "logo.png", "ga_tracking": "G-1",
            "robots_meta_contents": ["index"], "ip_addresses": ["10.0.0.0/8"],
            "components": [{"name": "API", "type": "manual", "description": "The API",
                            "status": "operational"}],
            "groups": [{"name": "Backend", "components": [{"name": "DB", "type": "manual"}]}]}


def page_update_body(world) -> dict:
    return {**page_body(world), "update_password": False}


def entry_body(world) -> dict:
    return {"team_member_id": world.member_id, "start_date": "2024-01-01T00:00:00Z",
            "end_date": "2024-01-31T23:59:59Z", "months_of_year": [1], "weeks_of_month": [1],
            "week_days": [1], "start_time": "00:00:00", "end_time": "23:59:59",
            "timezone": "UTC"}


def entry_update_body(world) -> dict:
    return {**entry_body(world), "created_at": world.entry_created_at}


# schema name -> a valid body (fresh names each call)
BODIES = {
    "MonitorCreate": monitor_body, "MonitorUpdate": monitor_body,
    "HeartbeatCreate": heartbeat_body, "HeartbeatUpdate": heartbeat_body,
    "ServerCreate": server_body, "ServerUpdate": server_update_body,
    "ServiceCreate": service_body, "ServiceRename": name_body, "TeamBody": name_body,
    "ChannelCreate": channel_body, "ChannelUpdate": channel_update_body,
    "RulesetCreate": ruleset_body, "RulesetUpdate": ruleset_body,
    "PageCreate": page_body, "PageUpdate": page_update_body,
    "EntryCreate": entry_body, "EntryUpdate": entry_update_body,
}


@dataclasses.dataclass
class World:
    """The caller and one of each parent the operations' paths name."""
    token: str
    team_id: str
    customer_id: str
    member_id: str
    service_id: str
    hook_url: str
    entry_created_at: str = ""
    ids: dict = dataclasses.field(default_factory=dict)


def _post(client, world, path, body) -> dict:
    response = client.simulate_post(path, json=body, headers=bearer(world.token))
    assert response.status_code == 201, (path, response.json)
    return response.json


@pytest.fixture
def world(settings, client, webhook_sink) -> World:
    cast = make_cast(settings, bob_role="user")
    world = World(cast.alice_token, str(cast.team.id), str(cast.alice.id), str(cast.bob.id),
                  str(make_service(cast.team).id), webhook_sink.url)
    world.ids = {"team_id": world.team_id, "customer_id": world.customer_id,
                 "service_id": world.service_id}
    for name, path, body in (("monitor_id", "/v1/resource", monitor_body),
                             ("heartbeat_id", "/v1/heartbeat", heartbeat_body),
                             ("server_id", "/v1/server-resource", server_body),
                             ("ruleset_id", "/v1/ruleset", ruleset_body),
                             ("page_id", "/v1/statuspage", page_body)):
        world.ids[name] = _post(client, world, path, body(world))["id"]
    for path in (f"/v1/team/{world.team_id}/notification-channel",
                 f"/v1/customer/{world.customer_id}/notification-channel"):
        assert _post(client, world, path, channel_body(world))["priority"] == 1
    entry = _post(client, world, f"/v1/team/{world.team_id}/schedule", entry_body(world))
    world.entry_created_at = entry["created_at"]
    return world


@pytest.fixture(scope="module")
def document(app) -> dict:
    return falcon.testing.TestClient(app).simulate_get("/openapi.json").json


def _operations(document) -> list[tuple[str, str, str]]:
    """(method, path template, body schema name) of every operation taking a covered body."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            ref = (operation.get("requestBody", {}).get("content", {})
                   .get("application/json", {}).get("schema", {}).get("$ref", ""))
            name = ref.rpartition("/")[2]
            if name in BODIES:
                found.append((method, path, name))
    return found


# -- the cases a schema's bounds make ------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Case:
    path: tuple          # keys and indexes from the body down to the value
    bound: str           # e.g. "maxLength 100"
    value: object
    inside: bool

    @property
    def field(self) -> str:
        return ".".join(str(part) for part in self.path)


def _resolve(schema: dict, document: dict) -> dict:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rpartition("/")[2]]
    return schema


_PY_TYPES = {"string": str, "integer": int, "number": (int, float), "array": list,
             "object": dict, "boolean": bool}


def _branches(schema: dict, base, document) -> list[dict]:
    """The alternatives of `schema` the base value could be (all, when there is none)."""
    schema = _resolve(schema, document)
    if "anyOf" not in schema:
        return [schema]
    found = []
    for option in schema["anyOf"]:
        option = _resolve(option, document)
        kind = option.get("type")
        if kind == "null":
            continue
        if base is None or kind is None or isinstance(base, _PY_TYPES.get(kind, object)) and \
                not (kind in ("integer", "number") and isinstance(base, bool)):
            found.append(option)
    return found


def cases(schema: dict, base, path: tuple, document: dict):
    """Every Case the bounds of `schema` make, at `path`, from the valid value `base` (None
    when the valid body leaves the field out)."""
    for option in _branches(schema, base, document):
        yield from _cases_of(option, base, path, document)


def _cases_of(schema, base, path, document):
    grammar = _is_grammar(path) or "pattern" in schema or "format" in schema
    if "enum" in schema or "const" in schema:
        members = schema.get("enum", [schema.get("const")])
        for member in members:
            yield Case(path, f"enum {members}", member, True)
        yield Case(path, f"enum {members}", "not-" + "-".join(str(m) for m in members), False)
        return
    kind = schema.get("type")
    if kind in ("integer", "number"):
        step = 1 if kind == "integer" else 0.001
        if "minimum" in schema:
            yield Case(path, f"minimum {schema['minimum']}", schema["minimum"], True)
            yield Case(path, f"minimum {schema['minimum']}", schema["minimum"] - step, False)
        if "maximum" in schema:
            yield Case(path, f"maximum {schema['maximum']}", schema["maximum"], True)
            yield Case(path, f"maximum {schema['maximum']}", schema["maximum"] + step, False)
        if "exclusiveMinimum" in schema:
            edge = schema["exclusiveMinimum"]
            yield Case(path, f"exclusiveMinimum {edge}", edge + step, True)
            yield Case(path, f"exclusiveMinimum {edge}", edge, False)
        if "exclusiveMaximum" in schema:
            edge = schema["exclusiveMaximum"]
            yield Case(path, f"exclusiveMaximum {edge}", edge - step, True)
            yield Case(path, f"exclusiveMaximum {edge}", edge, False)
    elif kind == "string":
        text = base if isinstance(base, str) else ""
        for key, edge in (("minLength", schema.get("minLength")),
                          ("maxLength", schema.get("maxLength"))):
            if edge is None:
                continue
            if not grammar:
                yield Case(path, f"{key} {edge}", _fit(text, edge), True)
            outside = edge - 1 if key == "minLength" else edge + 1
            if outside >= 0:
                yield Case(path, f"{key} {edge}", _fit(text, outside), False)
    elif kind == "array":
        yield from _array_cases(schema, base, path, document)
    elif kind == "object" or "properties" in schema:
        yield from _object_cases(schema, base, path, document)


def _array_cases(schema, base, path, document):
    items = base if isinstance(base, list) else []
    if not items:
        return
    for key in ("minItems", "maxItems"):
        edge = schema.get(key)
        if edge is None:
            continue
        yield Case(path, f"{key} {edge}", _resized(items, edge), True)
        outside = edge - 1 if key == "minItems" else edge + 1
        if outside >= 0:
            yield Case(path, f"{key} {edge}", _resized(items, outside), False)
    if "items" in schema:
        yield from cases(schema["items"], items[0], path + (0,), document)


def _object_cases(schema, base, path, document):
    given = base if isinstance(base, dict) else {}
    for name, prop in schema.get("properties", {}).items():
        yield from cases(prop, given.get(name), path + (name,), document)
    if not given or "properties" in schema:
        return
    first_key, first_value = next(iter(given.items()))
    edge = schema.get("maxProperties")
    if edge is not None:
        yield Case(path, f"maxProperties {edge}", _entries(first_value, edge), True)
        yield Case(path, f"maxProperties {edge}", _entries(first_value, edge + 1), False)
    values = schema.get("additionalProperties") or next(
        iter(schema.get("patternProperties", {}).values()), None)
    if isinstance(values, dict):
        yield from cases(values, first_value, path + (first_key,), document)


def _is_grammar(path: tuple) -> bool:
    shape = ".".join("*" if isinstance(part, int) or index and path[index - 1] == "headers"
                     else str(part) for index, part in enumerate(path))
    return shape in GRAMMAR


def _fit(text: str, length: int) -> str:
    return text[:length] if len(text) >= length else text + "a" * (length - len(text))


def _entries(value, count: int) -> dict:
    """`count` entries of `value`, under names any header-like pattern takes."""
    return {f"X-Field-{i}": copy.deepcopy(value) for i in range(count)}


def _resized(items: list, length: int) -> list:
    return [copy.deepcopy(items[i % len(items)]) for i in range(length)]


def _with(body: dict, case: Case) -> dict:
    changed = copy.deepcopy(body)
    if len(case.path) == 1 and isinstance(case.value, (int, str)):
        changed.update(TOGETHER.get((case.path[0], case.value), {}))
    target = changed
    for part in case.path[:-1]:
        target = target[part]
    target[case.path[-1]] = case.value
    return changed


# -- the test -------------------------------------------------------------------------------

def _refused(response) -> set[str]:
    if response.status_code != 422:
        return set()
    return set((response.json.get("error") or {}).get("fields") or {})


def _names(refused: set[str], field: str, *, or_its_parents: bool) -> bool:
    return any(name == field or name.startswith(field + ".")
               or or_its_parents and field.startswith(name + ".") for name in refused)


def _send(client, world, method, template, body):
    path = re.sub(r"{(\w+)}", lambda m: world.ids[m.group(1)], template)
    return getattr(client, f"simulate_{method}")(path, json=body, headers=bearer(world.token))


def test_every_covered_body_is_on_some_operation_of_the_document(document):
    assert {name for _, _, name in _operations(document)} == set(BODIES)


@pytest.mark.parametrize("schema_name", sorted(BODIES))
def test_each_bound_in_the_document_is_where_the_api_draws_it(client, world, document,
                                                              schema_name):
    schema = document["components"]["schemas"][schema_name]
    operations = [(m, p) for m, p, name in _operations(document) if name == schema_name]
    made = list(cases(schema, BODIES[schema_name](world), (), document))
    assert made, f"{schema_name} states no bounds"
    disagreements = []
    for method, template in operations:
        valid = _send(client, world, method, template, BODIES[schema_name](world))
        assert valid.status_code < 300, (method, template, valid.json)
        for case in made:
            response = _send(client, world, method, template,
                             _with(BODIES[schema_name](world), case))
            assert response.status_code < 500, (method, template, case)
            refused = _refused(response)
            if case.inside and _names(refused, case.field, or_its_parents=True):
                disagreements.append(f"{method.upper()} {template} {case.field} ({case.bound}): "
                                     f"{str(case.value)[:40]!r} allowed by the document, "
                                     f"refused: {response.json['error']['fields']}")
            elif not case.inside and not _names(refused, case.field, or_its_parents=False):
                disagreements.append(f"{method.upper()} {template} {case.field} ({case.bound}): "
                                     f"{str(case.value)[:40]!r} refused by the document, "
                                     f"answered {response.status_code}")
    assert not disagreements, "\n".join(disagreements)


def _scalar_queries(document, world) -> list[tuple[str, str, dict]]:
    """(path template, parameter name, its schema) of every GET's query parameter that takes
    one value, on a path whose ids the world has."""
    found = []
    for template, item in document["paths"].items():
        operation = item.get("get")
        names = re.findall(r"{(\w+)}", template)
        if operation is None or not set(names) <= set(world.ids):
            continue
        for parameter in operation["parameters"]:
            if parameter["in"] == "query":
                found.append((template, parameter["name"], parameter["schema"]))
    return found


def test_each_bound_of_a_query_parameter_is_where_the_api_draws_it(client, world, document):
    disagreements, tried = [], 0
    for template, name, schema in _scalar_queries(document, world):
        path = re.sub(r"{(\w+)}", lambda m: world.ids[m.group(1)], template)
        for case in cases(schema, None, (name,), document):
            if isinstance(case.value, (list, dict)):
                continue
            tried += 1
            response = client.simulate_get(path, params={name: str(case.value)},
                                           headers=bearer(world.token))
            assert response.status_code < 500, (template, case)
            refused = _refused(response)
            if case.inside == _names(refused, name, or_its_parents=False):
                disagreements.append(f"GET {template}?{name}={str(case.value)[:40]} "
                                     f"({case.bound}, {'inside' if case.inside else 'outside'}):"
                                     f" answered {response.status_code} {response.json}")
    assert tried, "no query parameter states a bound"
    assert not disagreements, "\n".join(disagreements)
