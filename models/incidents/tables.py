"""Rulesets, incidents and incident timelines.

An incident opened by a rule is unique twice over (indexes of the migration): per (ruleset,
trigger), so the same state change or webhook event delivered again opens nothing; and, while
it is open, per (ruleset, dedup key), so a second match of an open incident adds to its
timeline instead. A timeline entry with a key is unique per (incident, key), so what a job
writes there it writes once.
"""
from __future__ import annotations

import peewee

from models.accounts import Customer
from models.db import BaseModel, JSONField, UtcDateTimeField, UUIDModel
from models.incidents.webhooks import WebhookEvent
from models.organisations import Organisation, Team
from models.state_changes import StateChange

RULE_TYPES = ("state-change", "webhook")
LEVELS = ("team", "organisation")
URGENCIES = ("low", "medium", "high", "critical")
STATUSES = ("triggered", "acknowledged", "resolved")
ASSIGNEE_TYPES = ("team", "customer", "schedule", "ocs")


class Ruleset(UUIDModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    team = peewee.ForeignKeyField(Team, null=True, backref="rulesets", on_delete="CASCADE")
    level = peewee.CharField(max_length=16)
    rule_type = peewee.CharField(max_length=16)
    name = peewee.CharField(max_length=200)
    description = peewee.TextField(null=True)
    urgency = peewee.CharField(max_length=16)
    assignees = JSONField()                      # [{"type", "id"}]
    conditions = JSONField()                     # the condition language's normal form
    webhook_ids = JSONField(null=True)           # webhook rulesets: only these (None: all)
    priority = peewee.IntegerField(null=True)    # rules apply in priority order, then age
    dedup_key = peewee.CharField(max_length=200, null=True)    # a JSON path into payloads
    escalation_delay_minutes = peewee.IntegerField(null=True)
    renotify_minutes = peewee.IntegerField(null=True)
    actions = JSONField()                        # [{"id", "type", "settings": [...]}]
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class Incident(UUIDModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    team = peewee.ForeignKeyField(Team, backref="incidents", on_delete="CASCADE")
    ruleset = peewee.ForeignKeyField(Ruleset, null=True, on_delete="SET NULL")
    source = peewee.CharField(max_length=16)     # state-change, webhook, manual
    trigger_key = peewee.CharField(max_length=160, null=True)   # what opened it
    dedup_key = peewee.CharField(max_length=300, null=True)
    state_change = peewee.ForeignKeyField(StateChange, null=True, on_delete="SET NULL")
    webhook_event = peewee.ForeignKeyField(WebhookEvent, null=True, on_delete="SET NULL")
    subject_type = peewee.CharField(max_length=16, null=True)  # state-change incidents
    subject_id = peewee.UUIDField(null=True)
    name = peewee.CharField(max_length=300)
    description = peewee.TextField(null=True)
    urgency = peewee.CharField(max_length=16)
    status = peewee.CharField(max_length=16, default="triggered")
    assignees = JSONField()
    actions = JSONField()
    escalation_delay_minutes = peewee.IntegerField(null=True)
    renotify_minutes = peewee.IntegerField(null=True)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()
    acknowledged_at = UtcDateTimeField(null=True)
    acknowledged_by = peewee.ForeignKeyField(Customer, null=True, on_delete="SET NULL",
                                             backref="+")
    resolved_at = UtcDateTimeField(null=True)
    resolved_by = peewee.ForeignKeyField(Customer, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        indexes = ((("team", "created_at"), False), (("subject_type", "subject_id"), False))

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"


class IncidentEvent(BaseModel):
    """One step of an incident's timeline: opened by what, matched again, notified whom over
    which channel, delivered or failed, escalated, acknowledged or resolved by whom. Ids
    count up, so steps of one instant keep their order."""
    id = peewee.BigAutoField()
    incident = peewee.ForeignKeyField(Incident, backref="timeline", on_delete="CASCADE")
    at = UtcDateTimeField()
    kind = peewee.CharField(max_length=32)
    message = peewee.TextField()
    data = JSONField(null=True)
    actor = peewee.ForeignKeyField(Customer, null=True, on_delete="SET NULL", backref="+")
    key = peewee.CharField(max_length=200, null=True)

    class Meta:
        indexes = ((("incident", "key"), True), (("incident", "at"), False))


class IncidentStep(BaseModel):
    """A notification an incident has due: its first notices, each escalation, a reminder,
    the notice of its resolution. The index of due times the scheduler reads (a partial
    index of the steps not done); unique per (incident, key), so a step is planned once."""
    id = peewee.BigAutoField()
    incident = peewee.ForeignKeyField(Incident, backref="steps", on_delete="CASCADE")
    key = peewee.CharField(max_length=200)
    due_at = UtcDateTimeField()
    data = JSONField()
    enqueued_at = UtcDateTimeField(null=True)   # its job was sent (the scheduler resends late)
    done_at = UtcDateTimeField(null=True)

    class Meta:
        indexes = ((("incident", "key"), True),)
