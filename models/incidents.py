"""The incident layer's entry point for state changes of monitors, heartbeats and servers.

Recording a change (`models.state_changes`) hands it over here; the rules that open and resolve
incidents from it run in the `incidents.apply_rules` job, so a slow rule never holds up the
recording of results. The job is at least once: it marks the change applied only after every
rule ran, and the scheduler hands over again a change that no run finished with.
"""
from __future__ import annotations

import datetime as dt

from models import jobs
from models.state_changes import APPLY_RULES, StateChange

UNAPPLIED_AFTER = dt.timedelta(minutes=1)


def apply_rules(change_id, *, now) -> bool:
    """Runs the incident rules on a state change, then marks it applied; answers False for a
    change applied before (or gone). Safe to repeat: a second run changes nothing."""
    change = StateChange.get_or_none(StateChange.id == change_id)
    if change is None or change.rules_applied_at is not None:
        return False
    marked = (StateChange.update(rules_applied_at=now)
              .where(StateChange.id == change.id, StateChange.rules_applied_at.is_null())
              .execute())
    return marked == 1


def hand_over_unapplied(*, now, limit: int = 1000) -> int:
    """Hands over again the overall changes no rule run finished with within a minute of
    being recorded (reads the partial index of unapplied changes); answers how many."""
    stale = (StateChange.select(StateChange.id)
             .where(StateChange.rules_applied_at.is_null(), StateChange.region.is_null(),
                    StateChange.recorded_at < now - UNAPPLIED_AFTER)
             .order_by(StateChange.recorded_at).limit(limit))
    count = 0
    for change in stale:
        jobs.defer(APPLY_RULES, str(change.id))
        count += 1
    return count
