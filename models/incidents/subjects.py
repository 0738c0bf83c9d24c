"""What a state change is about (a monitor, a heartbeat, a server), as the rules and the
notices name it: its name, service, team and organisation."""
from __future__ import annotations

from models.heartbeats.tables import Heartbeat
from models.monitors.tables import Monitor
from models.organisations import Team
from models.servers.tables import Server
from models.services import Service

_TABLES = {"monitor": Monitor, "heartbeat": Heartbeat, "server": Server}


def describe_many(subjects) -> dict[tuple[str, str], dict]:
    """Each (type, id) pair's {type, id, name, service_id, team_id, organisation_id}, one
    query per type, keyed (type, str(id)); one deleted since is missing."""
    wanted: dict[str, set] = {}
    for subject_type, subject_id in subjects:
        wanted.setdefault(subject_type, set()).add(subject_id)
    found = {}
    for subject_type, ids in wanted.items():
        table = _TABLES[subject_type]
        for subject_id, name, service_id, team_id, organisation_id in (
                table.select(table.id, table.name, Service.id, Team.id, Team.organisation)
                .join(Service).join(Team).where(table.id.in_(list(ids))).tuples()):
            found[(subject_type, str(subject_id))] = {
                "type": subject_type, "id": str(subject_id), "name": name,
                "service_id": str(service_id), "team_id": str(team_id),
                "organisation_id": str(organisation_id)}
    return found
