"""Incidents and what feeds them: rulesets over state changes and webhook events, incidents
with their timeline, and the notices they send."""
from models.incidents.handover import (apply_rules, hand_over_unapplied,  # noqa: F401
                                       match_event)
