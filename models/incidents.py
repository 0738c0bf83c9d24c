"""The incident layer's entry point for monitors' state changes.

Recording a change hands it over here; the rules that open and resolve incidents from it (the
incidents issue) run in the `incidents.apply_rules` job, so a slow rule never holds up the
recording of results, and a redelivered job finds the change handed over already.
"""
from __future__ import annotations

from models import jobs
from models.monitors.tables import StateChange


def state_changed(change_id, *, now) -> None:
    """Hands an overall state change to the incident rules once the recording commits."""
    jobs.defer("incidents.apply_rules", str(change_id))


def apply_rules(change_id, *, now) -> bool:
    """Takes a state change over (once: a second run finds it taken and answers False).
    Incident rulesets act on the changes taken over here."""
    taken = (StateChange.update(handed_at=now)
             .where(StateChange.id == change_id, StateChange.handed_at.is_null()).execute())
    return taken == 1
