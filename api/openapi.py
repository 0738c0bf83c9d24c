"""`/openapi.json`, generated from the route table and the schemas the resources declare."""
from __future__ import annotations

import re

from pydantic.json_schema import models_json_schema

from api.schemas.base import Body, Query

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_PARAM = re.compile(r"{(\w+)(?::[^}]*)?}")
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "object", "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": {"type": "string"}}}}},
}


def build_document(routes, *, title: str, version: str, description: str = "") -> dict:
    """An OpenAPI 3.1 document for `routes` [(uri template, resource), ...]."""
    bodies = sorted({schema for _, resource in routes for schema in _declared(resource, Body)},
                    key=lambda m: m.__name__)
    _, schemas = models_json_schema([(m, "validation") for m in bodies],
                                    ref_template="#/components/schemas/{model}")
    components = dict(schemas.get("$defs", {}))
    components["Error"] = _ERROR
    paths: dict = {}
    for template, resource in routes:
        item = paths.setdefault(_PARAM.sub(r"{\1}", template), {})
        for method in METHODS:
            responder = getattr(resource, f"on_{method.lower()}", None)
            if responder is not None:
                item[method.lower()] = _operation(template, resource, method, responder)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _declared(resource, base) -> list:
    found = []
    for method in METHODS:
        for name in (method, f"{method}_QUERY"):
            value = getattr(resource, name, None)
            if isinstance(value, type) and issubclass(value, base):
                found.append(value)
    return found


def _operation(template, resource, method, responder) -> dict:
    doc = (responder.__doc__ or "").strip()
    summary, _, details = doc.partition("\n")
    operation = {
        "summary": summary.strip() or f"{method} {template}",
        "operationId": method.lower() + re.sub(r"[^A-Za-z0-9]+", "_", _PARAM.sub(r"\1", template)),
        "parameters": [{"name": name, "in": "path", "required": True,
                        "schema": {"type": "string"}} for name in _PARAM.findall(template)],
        "responses": {
            str(getattr(resource, "STATUS", {}).get(method, 200)): {"description": "Success"},
            "4XX": {"description": "Client error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        },
    }
    if details.strip():
        operation["description"] = " ".join(details.split())
    query = getattr(resource, f"{method}_QUERY", None)
    if query is not None:
        operation["parameters"] += _query_parameters(query)
    body = getattr(resource, method, None) if method != "GET" else None
    if isinstance(body, type) and issubclass(body, Body):
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{body.__name__}"}}}}
    if method not in getattr(resource, "PUBLIC", ()):
        operation["security"] = [{"bearer": []}]
    return operation


def _query_parameters(model: type[Query]) -> list[dict]:
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]
