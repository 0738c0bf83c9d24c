"""Who an incident is assigned to: `{type, id}` with type `team`, `customer`, `schedule` (a
team schedule) or `ocs` (an OCS schedule).

Each kind registers how its ids are checked (`register`); `team` and `customer` are here,
`schedule` and `ocs` in `models.oncall.assignees` (OCS ids are integers). A kind nobody
registered is refused with a clear 422 rather than stored and never notified.
"""
from __future__ import annotations

import uuid
from typing import Callable

from models.accounts import Customer
from models.errors import Invalid
from models.incidents.tables import ASSIGNEE_TYPES
from models.organisations import Team

# kind -> found(ids, organisation_id) -> the set of those ids that are the organisation's
_lookups: dict[str, Callable] = {}
# kind -> parse(raw id) -> the id (ValueError: not one); UUIDs unless registered otherwise
_parsers: dict[str, Callable] = {}


def _uuid(raw) -> uuid.UUID:
    return uuid.UUID(str(raw))


def register(kind: str, found: Callable, parse: Callable = _uuid) -> None:
    """`found(ids, organisation_id)` answers which of the parsed ids are the organisation's;
    `parse(raw)` turns a posted id into the one `found` takes and the stored form keeps (a
    UUID is stored as its string, anything else as it is parsed)."""
    _lookups[kind] = found
    _parsers[kind] = parse


def normalise(raw: list | None, organisation_id, *, field: str = "assignees") -> list[dict]:
    """The assignees in their stored form, each once, in the order given; `Invalid` naming
    each bad one."""
    problems, wanted = {}, {}
    for index, item in enumerate(raw or []):
        kind = item.get("type")
        if kind not in ASSIGNEE_TYPES:
            problems[f"{field}.{index}.type"] = f"one of {', '.join(ASSIGNEE_TYPES)}"
        elif kind not in _lookups:
            problems[f"{field}.{index}.type"] = (f"{kind} assignees need on-call schedules, "
                                                 "which are not available yet")
        else:
            try:
                wanted.setdefault((kind, _parsers[kind](item.get("id"))), index)
            except (ValueError, TypeError):
                problems[f"{field}.{index}.id"] = "not an id"
    for kind in {kind for kind, _ in wanted}:
        ids = [ident for k, ident in wanted if k == kind]
        known = _lookups[kind](ids, organisation_id)
        for ident in ids:
            if ident not in known:
                problems[f"{field}.{wanted[(kind, ident)]}.id"] = f"no such {kind} here"
    if problems:
        raise Invalid("Some assignees are invalid.", fields=problems)
    return [{"type": kind, "id": str(ident) if isinstance(ident, uuid.UUID) else ident}
            for kind, ident in wanted]


def _of_organisation(model):
    def found(ids, organisation_id) -> set:
        return {ident for (ident,) in model.select(model.id).where(
            model.id.in_(ids), model.organisation == organisation_id).tuples()}
    return found


register("team", _of_organisation(Team))
register("customer", _of_organisation(Customer))
