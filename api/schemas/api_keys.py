"""API keys: made, listed and revoked by owners."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from api.schemas.base import Body
from models.clock import isoformat

KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiKeyBody(Body):
    name: KeyName
    kind: Literal["read-only", "read-write"]


def api_key_out(key) -> dict:
    """A key as listed: never its secret, which only `created_api_key_out` answers, once."""
    return {"id": str(key.id), "name": key.name, "kind": key.kind, "prefix": key.prefix,
            "created_at": isoformat(key.created_at), "last_used_at": isoformat(key.last_used_at),
            "revoked_at": isoformat(key.revoked_at)}


def created_api_key_out(key, secret: str) -> dict:
    return {**api_key_out(key), "key": secret}
