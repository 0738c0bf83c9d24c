"""What a state change is about (a monitor, a heartbeat, a server), as the rules and the
notices name it: its name, service, team and organisation."""
from __future__ import annotations

from models.heartbeats.tables import Heartbeat
from models.monitors.tables import Monitor
from models.organisations import Team
from models.servers.tables import Server
from models.services import Service

_TABLES = {"monitor": Monitor, "heartbeat": Heartbeat, "server": Server}


def describe(subject_type: str, subject_id) -> dict | None:
    """{type, id, name, service_id, team_id, organisation_id}; None for one deleted since."""
    table = _TABLES[subject_type]
    row = (table.select(table.id, table.name, Service.id, Team.id, Team.organisation)
           .join(Service).join(Team).where(table.id == subject_id).tuples().first())
    if row is None:
        return None
    subject_id, name, service_id, team_id, organisation_id = row
    return {"type": subject_type, "id": str(subject_id), "name": name,
            "service_id": str(service_id), "team_id": str(team_id),
            "organisation_id": str(organisation_id)}
