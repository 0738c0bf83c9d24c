"""Incidents and what feeds them: rulesets over state changes and webhook events, incidents
with their timeline, and the notices they send."""
from models.incidents.handover import hand_over_unapplied  # noqa: F401
from models.incidents.rules import apply_to_change as apply_rules  # noqa: F401
from models.incidents.rules import apply_to_changes as apply_rules_many  # noqa: F401
from models.incidents.rules import apply_to_event as match_event  # noqa: F401
