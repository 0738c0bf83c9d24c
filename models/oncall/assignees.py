"""Incidents may be assigned to on-call schedules: a team's (`{"type": "schedule", "id":
<the team's id>}`), checked against the organisation's teams, and an OCS schedule (`{"type":
"ocs", "id": 12}`), whose ids are integers (`12` or `"12"`, stored as the integer), checked
against the organisation's schedules.

`models` imports this module once every area is loaded, so the kind is registered wherever
assignees are validated; nothing imports it otherwise (no cycle between the two areas).
"""
from __future__ import annotations

from models.incidents import assignees
from models.oncall.layers import is_id
from models.oncall.ocs import schedules_by_id
from models.organisations import Team


def parse_ocs_id(raw) -> int:
    """An OCS schedule id as posted: an integer or its decimal string."""
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) <= 10:
        raw = int(raw.strip())
    if not is_id(raw):
        raise ValueError("not an OCS schedule id")
    return raw


def teams_by_id(ids, organisation_id) -> set:
    """A team schedule is named by its team's id."""
    return {ident for (ident,) in Team.select(Team.id).where(
        Team.id.in_(ids), Team.organisation == organisation_id).tuples()}


assignees.register("schedule", teams_by_id)
assignees.register("ocs", schedules_by_id, parse=parse_ocs_id)
