"""What feeds the incident rules, handed over at least once: state changes of monitors,
heartbeats and servers (`models.state_changes`), and webhook events.

Recording a change or storing an event hands it over once the recording commits; the rules
run in the `incidents.apply_rules` and `incidents.match_event` jobs, so a slow rule never holds
up the recording of results. A job marks its change or event applied only after every rule
ran, and the scheduler hands over again what no run finished with a minute after it came.
"""
from __future__ import annotations

import datetime as dt

from models import jobs
from models.incidents.webhooks import MATCH_EVENT, WebhookEvent
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


def match_event(event_key: str, *, now) -> bool:
    """Holds the webhook rulesets against a stored event, then marks it applied; answers
    False for one applied before (or gone). Safe to repeat."""
    marked = (WebhookEvent.update(rules_applied_at=now)
              .where(WebhookEvent.key == event_key, WebhookEvent.rules_applied_at.is_null())
              .execute())
    return marked == 1


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
