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

import peewee

from models import batches, conditions, state_changes
from models.conditions import Response
from models.db import serialized
from models.incidents import lifecycle, payloads, rulesets, subjects
from models.incidents.tables import Ruleset
from models.incidents.webhooks import Webhook, WebhookEvent
from models.state_changes import StateChange


def apply_to_change(change_id, *, now) -> bool:
    """Runs the state-change rules on one overall change and marks it applied; False for a
    change applied before (or gone)."""
    return apply_to_changes([change_id], now=now) == 1


def apply_to_changes(change_ids, *, now) -> int:
    """Runs the state-change rules on overall changes (a probe batch's, a storm's thousands)
    in one transaction, the incidents they open written together; answers how many it
    marked applied (one applied before, or gone, is skipped). Should one change fail the
    run, each runs alone, so that it holds up only itself."""
    return batches.together_else_alone(lambda ids: _apply_to_changes(ids, now=now),
                                       list(change_ids))


def _apply_to_changes(change_ids: list, *, now) -> int:
    with serialized():   # SQLite: write-locked from BEGIN, as the run reads then writes
        changes = list(StateChange.select().where(StateChange.id.in_(change_ids),
                                                  StateChange.rules_applied_at.is_null())
                       .order_by(StateChange.changed_at))
        if not changes:
            return 0
        described = subjects.describe_many((c.subject_type, c.subject_id) for c in changes)
        latest = _latest_changes(changes)
        scopes = _Scopes()
        openings, told = [], []
        for change in changes:
            subject_key = (change.subject_type, str(change.subject_id))
            subject = described.get(subject_key)
            if subject is None:
                continue
            if change.to_status == "down" and latest[subject_key] <= change.changed_at:
                openings.extend(_openings_for_change(change, subject, scopes))
                told.append(change)
            elif change.to_status == "up":     # (a later down of the batch opens after it)
                told.append(change)
                lifecycle.resolve_open(
                    lifecycle.of_subject(change.subject_type, change.subject_id),
                    cause=f"Resolved: {subject['name']} is up again",
                    key=f"recovered:{change.id}", at=change.changed_at, now=now)
        lifecycle.open_many(openings, now=now)
        state_changes.tell(told, now=now)
        return (StateChange.update(rules_applied_at=now)
                .where(StateChange.id.in_([c.id for c in changes]),
                       StateChange.rules_applied_at.is_null())
                .execute())


def _latest_changes(changes) -> dict[tuple[str, str], object]:
    """When each subject's latest overall change happened: a down change older than that,
    handed over again late, would open an incident for a subject that is back."""
    ids = {c.subject_id for c in changes}
    latest = (StateChange.select(StateChange.subject_type, StateChange.subject_id,
                                 peewee.fn.MAX(StateChange.changed_at))
              .where(StateChange.subject_id.in_(list(ids)), StateChange.region.is_null())
              .group_by(StateChange.subject_type, StateChange.subject_id).tuples())
    field = StateChange.changed_at
    return {(subject_type, str(subject_id)): field.python_value(at)
            for subject_type, subject_id, at in latest}


class _Scopes:
    """The state-change rulesets of each team, with their parsed conditions, read once per
    run."""

    def __init__(self):
        self._found: dict[str, list] = {}

    def of(self, subject: dict) -> list[tuple[Ruleset, list]]:
        team_id = subject["team_id"]
        if team_id not in self._found:
            self._found[team_id] = [
                (ruleset, rulesets.parsed_conditions(ruleset))
                for ruleset in rulesets.in_scope("state-change", team_id=team_id,
                                                 organisation_id=subject["organisation_id"])]
        return self._found[team_id]


def _openings_for_change(change, subject: dict, scopes: _Scopes) -> list[dict]:
    """The incidents a change going down opens: one per ruleset in scope whose conditions
    hold, as `lifecycle.open_many` takes them."""
    document = {"subject": {key: subject[key] for key in
                            ("type", "id", "name", "service_id", "team_id")},
                "from_status": change.from_status, "to_status": change.to_status,
                "cause": change.cause, "regions": change.regions_down or []}
    held = Response.of_document(document)
    why = f"{subject['type']} '{subject['name']}' is down" + (
        f" ({change.cause})" if change.cause else "")
    return [dict(ruleset=ruleset, team_id=subject["team_id"], trigger_key=f"change:{change.id}",
                 dedup_key=f"{change.subject_type}:{change.subject_id}",
                 name=f"{subject['name']} is down", description=change.cause,
                 at=change.changed_at, state_change=change.id,
                 subject=(change.subject_type, change.subject_id), why=why)
            for ruleset, parsed in scopes.of(subject)
            if conditions.evaluate(parsed, held) is None]


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
    lifecycle.open_many([dict(
        ruleset=ruleset, team_id=webhook.team_id, trigger_key=trigger, dedup_key=key,
        name=signal.title or ruleset.name, description=signal.description,
        at=event.received_at, webhook_event=event.key,
        why=f"an event on webhook '{webhook.name or webhook.id}'")], now=now)
