"""Services (endpoints 40-43)."""
from __future__ import annotations

import uuid

from api.schemas.base import Body, Title
from models.clock import isoformat


class ServiceCreate(Body):
    name: Title
    team_id: uuid.UUID


class ServiceRename(Body):
    name: Title


def service_out(service, counts: dict | None = None) -> dict:
    shaped = {"id": str(service.id), "name": service.name,
              "team": {"id": str(service.team.id), "name": service.team.name},
              "team_id": str(service.team_id), "created_at": isoformat(service.created_at)}
    if counts is not None:
        shaped["counts"] = {"monitors": counts.get("monitors", 0),
                            "heartbeats": counts.get("heartbeats", 0),
                            "server_monitors": counts.get("server_monitors", 0)}
    return shaped
