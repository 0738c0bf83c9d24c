"""Incident webhooks (endpoints 89-92): what each request may carry, and the answers."""
from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import StringConstraints

from api.schemas.base import Body, Title
from api.schemas.heartbeats import EventsQuery
from models.clock import isoformat

Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


class WebhookCreate(Body):
    name: Title | None = None
    description: Description | None = None
    team_id: uuid.UUID | None = None


class WebhookEventsQuery(EventsQuery):
    pass


def webhook_out(webhook, *, gateway_url: str) -> dict:
    return {"id": str(webhook.id), "team_id": str(webhook.team_id), "name": webhook.name,
            "description": webhook.description,
            "url": f"{gateway_url}/v1/incident/webhook/{webhook.id}",
            "created_at": isoformat(webhook.created_at)}


def event_out(event) -> dict:
    return {"id": event.key, "content_type": event.content_type, "body": event.body,
            "ip": event.ip, "received_at": isoformat(event.received_at)}
