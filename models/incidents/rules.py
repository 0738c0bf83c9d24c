"""The rules: what a state change or a webhook event does to incidents.

A state change going down opens an incident in every `state-change` ruleset in its subject's
scope whose conditions hold (one per ruleset and subject while open); coming back up resolves
the subject's open incidents. A webhook event is matched by the `webhook` rulesets in its
webhook's scope: each match opens an incident (one per ruleset and dedup key while open),
unless the payload says to resolve or acknowledge it (`payloads`). Both run in one
transaction with the mark that the change or event was applied, so a run is all or nothing,
and every write is keyed by its trigger, so a second run changes nothing.
"""
from __future__ import annotations

from models import conditions
from models.conditions import Response
from models.db import serialized
from models.incidents import lifecycle, payloads, rulesets, subjects
from models.incidents.tables import Ruleset
from models.incidents.webhooks import Webhook, WebhookEvent
from models.state_changes import StateChange


def apply_to_change(change_id, *, now) -> bool:
    """Runs the state-change rules on one overall change and marks it applied; False for a
    change applied before (or gone)."""
    with serialized():   # SQLite: write-locked from BEGIN, as the run reads then writes
        change = StateChange.get_or_none(StateChange.id == change_id)
        if change is None or change.rules_applied_at is not None:
            return False
        subject = subjects.describe(change.subject_type, change.subject_id)
        if subject is not None and change.to_status == "down" and not _superseded(change):
            _open_for_change(change, subject, now=now)
        elif subject is not None and change.to_status == "up":
            lifecycle.resolve_open(
                lifecycle.of_subject(change.subject_type, change.subject_id),
                cause=f"Resolved: {subject['name']} is up again", key=f"recovered:{change.id}",
                at=change.changed_at, now=now)
        marked = (StateChange.update(rules_applied_at=now)
                  .where(StateChange.id == change.id, StateChange.rules_applied_at.is_null())
                  .execute())
    return marked == 1


def _superseded(change) -> bool:
    """Whether a later overall change of the subject was recorded (this one, handed over
    again late, would open an incident for a subject that is back)."""
    return (StateChange.select().where(StateChange.subject_type == change.subject_type,
                                       StateChange.subject_id == change.subject_id,
                                       StateChange.region.is_null(),
                                       StateChange.changed_at > change.changed_at).exists())


def _open_for_change(change, subject: dict, *, now) -> None:
    document = {"subject": {key: subject[key] for key in
                            ("type", "id", "name", "service_id", "team_id")},
                "from_status": change.from_status, "to_status": change.to_status,
                "cause": change.cause, "regions": change.regions_down or []}
    held = Response.of_document(document)
    for ruleset in rulesets.in_scope("state-change", team_id=subject["team_id"],
                                     organisation_id=subject["organisation_id"]):
        if conditions.evaluate(rulesets.parsed_conditions(ruleset), held) is not None:
            continue
        why = f"{subject['type']} '{subject['name']}' is down" + (
            f" ({change.cause})" if change.cause else "")
        lifecycle.open_from_rule(
            ruleset, team_id=subject["team_id"], trigger_key=f"change:{change.id}",
            dedup_key=f"{change.subject_type}:{change.subject_id}",
            name=f"{subject['name']} is down", description=change.cause,
            at=change.changed_at, now=now, state_change=change.id,
            subject=(change.subject_type, change.subject_id), why=why)


def apply_to_event(event_key: str, *, now) -> bool:
    """Runs the webhook rules on one stored event and marks it applied; False for an event
    applied before (or gone)."""
    with serialized():   # SQLite: write-locked from BEGIN, as the run reads then writes
        event = WebhookEvent.get_or_none(WebhookEvent.key == event_key)
        if event is None or event.rules_applied_at is not None:
            return False
        webhook = Webhook.get_by_id(event.webhook_id)
        found = [r for r in rulesets.in_scope("webhook", team_id=webhook.team_id,
                                              organisation_id=webhook.organisation_id)
                 if r.webhook_ids is None or str(webhook.id) in r.webhook_ids]
        if found:
            for index, signal in enumerate(payloads.signals_of(event.body, event.content_type)):
                for ruleset in found:
                    _act(ruleset, webhook, event, signal, index, now=now)
        marked = (WebhookEvent.update(rules_applied_at=now)
                  .where(WebhookEvent.key == event.key, WebhookEvent.rules_applied_at.is_null())
                  .execute())
    return marked == 1


def _act(ruleset: Ruleset, webhook, event, signal: payloads.Signal, index: int, *, now) -> None:
    """What one signal of the event (the payload, or one of Alertmanager's alerts) does in
    one ruleset."""
    held = Response.of_document(signal.document, body=signal.body)
    if conditions.evaluate(rulesets.parsed_conditions(ruleset), held) is not None:
        return
    key = signal.dedup_key(rulesets.dedup_path(ruleset))
    trigger = f"event:{event.key}:{index}"
    if signal.action in ("resolve", "acknowledge"):
        if key is not None:
            move = (lifecycle.resolve_open if signal.action == "resolve"
                    else lifecycle.acknowledge_open)
            move(lifecycle.of_key(ruleset.id, key), at=event.received_at, now=now,
                 cause=f"{signal.action.capitalize()}d by a webhook event: {signal.title}",
                 key=f"{signal.action}:{trigger}")
        return
    lifecycle.open_from_rule(
        ruleset, team_id=webhook.team_id, trigger_key=trigger, dedup_key=key,
        name=signal.title or ruleset.name, description=signal.description,
        at=event.received_at, now=now, webhook_event=event.key,
        why=f"an event on webhook '{webhook.name or webhook.id}'")
