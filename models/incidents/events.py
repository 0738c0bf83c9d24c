"""Storing webhook events and handing them to the rules: the flushers' store function for
the webhook events' stream (and the gateway's, embedded).

A stored event that a webhook ruleset covers goes to `incidents.match_event` once the batch
commits, at least once like a state change (the scheduler hands it over again if no run
finished with it); one that no ruleset covers is applied as it is stored, so a webhook no rule
listens to costs no job per event.
"""
from __future__ import annotations

import uuid

from models import jobs
from models.db import copy_in, database, insert_rows, is_postgres
from models.incidents.tables import Ruleset
from models.incidents.webhooks import COLUMNS, Event, Webhook, WebhookEvent

MATCH_EVENT = "incidents.match_event"
_FIELDS = [WebhookEvent._meta.columns[name] for name in COLUMNS]


def store_events(events: list[Event], *, now) -> int:
    """Stores the events (those of deleted webhooks are dropped, one stored before changes
    nothing) and hands the new ones a ruleset covers to the rules once the batch commits;
    answers how many were new."""
    if not events:
        return 0
    webhooks = {str(w.id): w for w in Webhook.select().where(
        Webhook.id.in_(sorted({uuid.UUID(e.webhook_id) for e in events})))}
    wanted = [e for e in events if e.webhook_id in webhooks]
    if not wanted:
        return 0
    with database.atomic():
        if is_postgres():
            text = b"".join((e.packed or e.pack()) + b"\n" for e in wanted)
            copied = copy_in(WebhookEvent, _FIELDS, text, returning=(WebhookEvent.key,))
            new = [(e.key,) for e in wanted] if copied is None else copied
        else:
            new = insert_rows(WebhookEvent, _FIELDS,
                              [(e.key, e.webhook_id, e.content_type, e.body, e.ip,
                                e.received_at) for e in wanted], returning=(WebhookEvent.key,))
        covered = _covered(list(webhooks.values()))
        by_key = {e.key: e for e in wanted}
        unheard = [key for (key,) in new if by_key[key].webhook_id not in covered]
        if unheard:
            (WebhookEvent.update(rules_applied_at=now)
             .where(WebhookEvent.key.in_(unheard)).execute())
        for (key,) in new:
            if by_key[key].webhook_id in covered:
                jobs.defer(MATCH_EVENT, key)
    return len(new)


def _covered(webhooks: list[Webhook]) -> set[str]:
    """The ids of the webhooks some webhook ruleset applies to."""
    rulesets = list(Ruleset.select(Ruleset.level, Ruleset.team, Ruleset.organisation,
                                   Ruleset.webhook_ids)
                    .where(Ruleset.rule_type == "webhook",
                           Ruleset.organisation.in_({w.organisation_id for w in webhooks})))
    return {str(w.id) for w in webhooks for r in rulesets
            if r.organisation_id == w.organisation_id
            and (r.level == "organisation" or r.team_id == w.team_id)
            and (r.webhook_ids is None or str(w.id) in r.webhook_ids)}
