import dramatiq

import workers.broker  # noqa: F401  (the broker is installed before any actor is declared)
from models import clock, incidents


@dramatiq.actor(actor_name="incidents.apply_rules", queue_name="default", max_retries=8)
def apply_rules(state_change_id, subject=None):
    """Runs the incident rules on a state change (of a monitor, heartbeat or server); a second
    run changes nothing. (`subject`: messages of an earlier release carried it; the change
    row says it now.)"""
    incidents.apply_rules(state_change_id, now=clock.now())


@dramatiq.actor(actor_name="incidents.match_event", queue_name="default", max_retries=8)
def match_event(event_key):
    """Holds the webhook rulesets against a stored event; a second run changes nothing."""
    incidents.match_event(event_key, now=clock.now())
