"""Uptime monitor integrations (endpoints 64-67): what a request may carry, the answer's shape.
The API key is taken, never answered (`has_api_key` tells whether one is kept)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from api.schemas.base import Body, Title
from models.clock import isoformat

IntegrationType = Literal["statuspageIo", "pinghome"]
# the statuses Statuspage opens an incident with (`resolved` is what recovery sends)
OpeningStatus = Literal["investigating", "identified", "monitoring"]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                              pattern=r"^[A-Za-z0-9_-]+$")]
Components = Annotated[list[ExternalId], Field(min_length=1, max_length=100)]
Message = Annotated[str, StringConstraints(max_length=10_000)]
ApiKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200,
                                          pattern=r"^[\x21-\x7e]+$")]


class IntegrationFields(Body):
    name: Title | None = None
    status: OpeningStatus | None = None
    message: Message | None = None
    type: IntegrationType | None = None
    integration: ExternalId | None = None
    items: Components | None = None
    api_key: ApiKey | None = None

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class IntegrationCreate(IntegrationFields):
    """`statuspageIo`: `integration` is the Statuspage page id, `items` its component ids,
    `api_key` required. `pinghome`: one of the organisation's status pages and components of
    it, no key."""
    type: IntegrationType
    integration: ExternalId
    items: Components


class IntegrationUpdate(IntegrationFields):
    pass


def integration_out(integration) -> dict:
    return {"id": str(integration.id), "resource_id": str(integration.monitor_id),
            "type": integration.type, "integration": integration.page_id,
            "items": list(integration.component_ids), "name": integration.name,
            "status": integration.status, "message": integration.message,
            "has_api_key": bool(integration.sealed_api_key),
            "created_at": isoformat(integration.created_at),
            "updated_at": isoformat(integration.updated_at)}
