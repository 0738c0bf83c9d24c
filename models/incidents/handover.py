"""What feeds the incident rules is handed over at least once: state changes of monitors,
heartbeats and servers (`models.state_changes`), and webhook events.

Recording a change or storing an event hands it over once the recording commits; the rules
run in the `incidents.apply_rules` and `incidents.match_event` jobs (`rules`), so a slow rule
never holds up the recording of results. A run marks its change or event applied in the same
transaction as what it did, and the scheduler hands over again what no run finished with a
minute after it came.
"""
from __future__ import annotations

import datetime as dt

from models import jobs
from models.incidents.events import MATCH_EVENT
from models.incidents.webhooks import WebhookEvent
from models.state_changes import APPLY_RULES, StateChange

UNAPPLIED_AFTER = dt.timedelta(minutes=1)


def hand_over_unapplied(*, now, limit: int = 1000) -> int:
    """Hands over again the overall changes and the events no rule run finished with a
    minute after they were recorded (both read a partial index of what is unapplied);
    answers how many."""
    cutoff = now - UNAPPLIED_AFTER
    changes = (StateChange.select(StateChange.id)
               .where(StateChange.rules_applied_at.is_null(), StateChange.region.is_null(),
                      StateChange.recorded_at < cutoff)
               .order_by(StateChange.recorded_at).limit(limit))
    events = (WebhookEvent.select(WebhookEvent.key)
              .where(WebhookEvent.rules_applied_at.is_null(), WebhookEvent.received_at < cutoff)
              .order_by(WebhookEvent.received_at).limit(limit))
    count = 0
    for change in changes:
        jobs.defer(APPLY_RULES, str(change.id))
        count += 1
    for event in events:
        jobs.defer(MATCH_EVENT, event.key)
        count += 1
    return count
