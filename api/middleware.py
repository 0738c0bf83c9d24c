"""The request pipeline shared by every endpoint: path prefix, body size, database connection,
authentication and validation. Responders see only validated input and a known caller."""
from __future__ import annotations

from api.schemas.base import Invalid, parse_body, parse_query
from models import accounts, api_keys, clock
from models.db import database
from models import errors

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
READ_METHODS = {"GET", "HEAD"}


class StripDefaultPrefix:
    """Pinghome's hosts also serve every path under `/default/v1/...`; route both alike."""

    def process_request(self, req, resp):
        if req.path.startswith("/default/"):
            req.path = req.path[len("/default"):]


class BodySizeLimit:
    """Refuses a declared body larger than the limit before anything reads it (413), except
    for resources that keep only the start of a body and drop the rest (`CUTS_BODY`)."""

    def __init__(self, max_body_bytes: int):
        self.max_body_bytes = max_body_bytes

    def process_resource(self, req, resp, resource, params):
        if getattr(resource, "CUTS_BODY", False):
            return
        if req.content_length is not None and req.content_length > self.max_body_bytes:
            raise _too_large(self.max_body_bytes)


class DatabaseConnection:
    """Hands the request's pooled connection back when the answer is written. Peewee opens
    it at the first query, so a request that needs no database (or a health check while the
    database is down) never waits for one."""

    def process_response(self, req, resp, resource, req_succeeded):
        if not database.is_closed():
            database.close()


class Authentication:
    """Resolves the bearer token to `req.context.caller` for every method not listed in the
    resource's `PUBLIC` set, and for those in its `OPTIONAL_AUTH` set when one is sent; an
    unknown, expired or revoked token is a 401. A token `phk_...` is an API key; a read-only
    key may only read (GET, HEAD): anything else is a 403 `read_only_key`."""

    def __init__(self, settings):
        self.settings = settings

    def process_resource(self, req, resp, resource, params):
        req.context.caller = None
        if resource is None or req.method in getattr(resource, "PUBLIC", ()) \
                or req.method == "OPTIONS" or not hasattr(resource, f"on_{req.method.lower()}"):
            return
        if req.method in getattr(resource, "OPTIONAL_AUTH", ()) \
                and not req.get_header("Authorization"):
            return
        token = bearer_token(req)
        if not token:
            raise _unauthenticated("Send 'Authorization: Bearer <token>'; get a token from "
                                   "POST /v1/auth.")
        authenticate = (api_keys.authenticate_key if api_keys.is_api_key(token)
                        else accounts.authenticate)
        try:
            req.context.caller = authenticate(token, settings=self.settings, now=clock.now())
        except errors.Unauthenticated as exc:
            raise _unauthenticated(exc.message) from None
        if getattr(req.context.caller, "read_only", False) and req.method not in READ_METHODS:
            raise errors.Forbidden("This API key is read-only: it may only GET; make a "
                                   "read-write key to change things.", code="read_only_key")


def bearer_token(req) -> str | None:
    """The token of `Authorization: Bearer <token>`, or None without one."""
    scheme, _, token = (req.get_header("Authorization") or "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class Validation:
    """Checks the body against the resource's `<METHOD>` declaration and the query against
    `<METHOD>_QUERY`, answering 400 (malformed), 413 (too large) or 422 (bad fields)."""

    def __init__(self, max_body_bytes: int):
        self.max_body_bytes = max_body_bytes

    def process_resource(self, req, resp, resource, params):
        req.context.body = None
        req.context.query = None
        if resource is None:
            return
        query_model = getattr(resource, f"{req.method}_QUERY", None)
        body_model = getattr(resource, req.method, None) if req.method in BODY_METHODS else None
        try:
            if query_model is not None:
                req.context.query = parse_query(query_model, dict(req.params))
            if body_model is not None:
                req.context.body = parse_body(body_model, self._read(req))
        except Invalid as exc:
            if exc.malformed:
                raise errors.BadRequest(exc.message, code="malformed_body") from None
            raise errors.Invalid(_summary(exc.fields), fields=exc.fields,
                                 code="invalid_fields") from None

    def _read(self, req) -> bytes:
        """Reads at most one byte past the limit."""
        stream = body_stream(req)
        chunks, size = [], 0
        while size <= self.max_body_bytes:
            chunk = stream.read(self.max_body_bytes + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > self.max_body_bytes:
            raise _too_large(self.max_body_bytes)
        return b"".join(chunks)


def body_stream(req):
    """The request body as a stream to read to its end. A chunked body has no Content-Length,
    so Falcon's bounded stream would read it as empty; gunicorn and waitress mark such input
    EOF-terminated (PEP 3333's `wsgi.input_terminated`), which makes the raw stream safe."""
    if req.content_length is None and req.env.get("wsgi.input_terminated"):
        return req.stream
    return req.bounded_stream


def kept_body(req, limit: int) -> bytes:
    """The first `limit` bytes of the body, for resources that keep the start of a body and
    drop the rest (`CUTS_BODY`): the rest is read and dropped, never refused."""
    stream = body_stream(req)
    chunks, size = [], 0
    while size < limit:
        chunk = stream.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    while stream.read(64 * 1024):
        pass
    return b"".join(chunks)


def _summary(fields: dict) -> str:
    names = ", ".join(sorted(fields))
    return f"{len(fields)} field{'s are' if len(fields) > 1 else ' is'} invalid: {names}."


def _too_large(limit: int) -> errors.PayloadTooLarge:
    return errors.PayloadTooLarge(f"The request body is larger than {limit} bytes.")


def _unauthenticated(message: str) -> errors.Unauthenticated:
    return errors.Unauthenticated(message, code="unauthenticated",
                           headers={"WWW-Authenticate": 'Bearer realm="pinghome"'})
