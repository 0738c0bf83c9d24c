import dramatiq

import workers.broker  # noqa: F401  (the broker is installed before any actor is declared)
from models import clock, incidents


@dramatiq.actor(actor_name="incidents.apply_rules", queue_name="default", max_retries=8,
                time_limit=600_000)
def apply_rules(state_change_ids, subject=None):
    """Runs the incident rules on a state change (of a monitor, heartbeat or server), or on
    a list of them together; a second run changes nothing. (`subject`: messages of an earlier
    release carried it; the change row says it now.)"""
    ids = [state_change_ids] if isinstance(state_change_ids, str) else state_change_ids
    incidents.apply_rules_many(ids, now=clock.now())


@dramatiq.actor(actor_name="incidents.match_event", queue_name="default", max_retries=8)
def match_event(event_key):
    """Holds the webhook rulesets against a stored event; a second run changes nothing."""
    incidents.match_event(event_key, now=clock.now())
