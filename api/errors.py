"""Every error leaves the API as `{"error": {"code", "message", "fields"}}` with its status.

Registered once per app: domain errors carry their own status; Falcon's own errors (unknown
path, wrong method) are reshaped by the serializer; an unreachable database or Redis is a 503;
anything else is logged and answered with a bare 500 that reveals nothing.
"""
from __future__ import annotations

import logging

import falcon
import peewee
import redis.exceptions
from playhouse.pool import MaxConnectionsExceeded

from models.errors import DomainError

log = logging.getLogger(__name__)


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def serialize_http_error(req, resp, error: falcon.HTTPError) -> None:
    phrase = error.status.partition(" ")[2] if isinstance(error.status, str) else str(error.status)
    code = phrase.lower().replace(" ", "_").replace("-", "_") or "error"
    message = error.description
    if not message and error.status_code == 404:
        message = f"Nothing is at {req.path}."
    elif not message and error.status_code == 405:
        message = f"{req.method} is not allowed on {req.path}."
    resp.content_type = falcon.MEDIA_JSON
    resp.media = error_body(code, message or phrase)


def handle_domain_error(req, resp, error: DomainError, params) -> None:
    resp.status = error.status
    resp.media = error_body(error.code, error.message, error.fields)
    for name, value in error.headers.items():
        resp.set_header(name, value)


def handle_unavailable(req, resp, error, params) -> None:
    log.warning("dependency unavailable on %s %s: %s", req.method, req.path, error)
    resp.status = falcon.HTTP_503
    resp.set_header("Retry-After", "5")
    resp.media = error_body("unavailable", "A service this request needs is unavailable; "
                                           "try again shortly.")


def handle_integrity_error(req, resp, error, params) -> None:
    """A unique key caught a race the domain check could not see: the other request won."""
    log.info("integrity error on %s %s: %s", req.method, req.path, error)
    resp.status = falcon.HTTP_409
    resp.media = error_body("conflict", "A concurrent change conflicts with this request; "
                                        "read the current state and try again.")


def handle_unexpected(req, resp, error, params) -> None:
    if isinstance(error, falcon.HTTPError):   # Falcon routes its own errors through here too
        resp.status = error.status
        serialize_http_error(req, resp, error)
        for name, value in (error.headers or {}).items():
            resp.set_header(name, value)
        return
    log.exception("unexpected error on %s %s", req.method, req.path)
    resp.status = falcon.HTTP_500
    resp.media = error_body("internal", "Something went wrong on our side; it has been logged.")


def register(app: falcon.App) -> None:
    app.set_error_serializer(serialize_http_error)
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler((peewee.OperationalError, peewee.InterfaceError,
                           MaxConnectionsExceeded, redis.exceptions.ConnectionError,
                           redis.exceptions.TimeoutError), handle_unavailable)
    app.add_error_handler(peewee.IntegrityError, handle_integrity_error)
    app.add_error_handler(DomainError, handle_domain_error)
