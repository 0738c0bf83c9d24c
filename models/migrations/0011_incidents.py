"""Incident rulesets, incidents and their timelines."""
import uuid

from peewee import (BigAutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model,
                    TextField, UUIDField)


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Organisation(UUIDBase):
    pass


class Team(UUIDBase):
    pass


class Customer(UUIDBase):
    pass


class StateChange(UUIDBase):
    pass


class WebhookEvent(Base):
    key = CharField(max_length=32, primary_key=True)


class Ruleset(UUIDBase):
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    team = ForeignKeyField(Team, null=True, on_delete="CASCADE")
    level = CharField(max_length=16)
    rule_type = CharField(max_length=16)
    name = CharField(max_length=200)
    description = TextField(null=True)
    urgency = CharField(max_length=16)
    assignees = TextField()
    conditions = TextField()
    webhook_ids = TextField(null=True)
    priority = IntegerField(null=True)
    dedup_key = CharField(max_length=200, null=True)
    escalation_delay_minutes = IntegerField(null=True)
    renotify_minutes = IntegerField(null=True)
    actions = TextField()
    created_at = DateTimeField()
    updated_at = DateTimeField()


class Incident(UUIDBase):
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    team = ForeignKeyField(Team, on_delete="CASCADE")
    ruleset = ForeignKeyField(Ruleset, null=True, on_delete="SET NULL")
    source = CharField(max_length=16)
    trigger_key = CharField(max_length=160, null=True)
    dedup_key = CharField(max_length=300, null=True)
    state_change = ForeignKeyField(StateChange, null=True, on_delete="SET NULL")
    webhook_event = ForeignKeyField(WebhookEvent, null=True, on_delete="SET NULL")
    subject_type = CharField(max_length=16, null=True)
    subject_id = UUIDField(null=True)
    name = CharField(max_length=300)
    description = TextField(null=True)
    urgency = CharField(max_length=16)
    status = CharField(max_length=16, default="triggered")
    assignees = TextField()
    actions = TextField()
    escalation_delay_minutes = IntegerField(null=True)
    renotify_minutes = IntegerField(null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    acknowledged_at = DateTimeField(null=True)
    acknowledged_by = ForeignKeyField(Customer, null=True, on_delete="SET NULL", backref="+")
    resolved_at = DateTimeField(null=True)
    resolved_by = ForeignKeyField(Customer, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        indexes = ((("team", "created_at"), False), (("subject_type", "subject_id"), False))


class IncidentEvent(Base):
    id = BigAutoField()
    incident = ForeignKeyField(Incident, on_delete="CASCADE")
    at = DateTimeField()
    kind = CharField(max_length=32)
    message = TextField()
    data = TextField(null=True)
    actor = ForeignKeyField(Customer, null=True, on_delete="SET NULL", backref="+")
    key = CharField(max_length=200, null=True)

    class Meta:
        indexes = ((("incident", "key"), True), (("incident", "at"), False))


class IncidentStep(Base):
    id = BigAutoField()
    incident = ForeignKeyField(Incident, on_delete="CASCADE")
    key = CharField(max_length=200)
    due_at = DateTimeField()
    data = TextField()
    enqueued_at = DateTimeField(null=True)
    done_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("incident", "key"), True),)


NEW = [Ruleset, Incident, IncidentEvent, IncidentStep]
REFERENCED = [Organisation, Team, Customer, StateChange, WebhookEvent]


def up(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.create_tables(NEW)
    # a state change or webhook event delivered again opens nothing ...
    db.execute_sql("CREATE UNIQUE INDEX incident_trigger ON incident (ruleset_id, trigger_key)")
    # ... and a ruleset keeps one open incident per dedup key
    db.execute_sql("CREATE UNIQUE INDEX incident_open_dedup ON incident (ruleset_id, dedup_key) "
                   "WHERE status <> 'resolved'")
    # the scheduler reads the steps due from here
    db.execute_sql("CREATE INDEX incident_step_due ON incident_step (due_at) "
                   "WHERE done_at IS NULL")


def down(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.drop_tables(list(reversed(NEW)))
