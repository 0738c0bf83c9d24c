"""Heartbeat monitors, their events and state changes."""
import uuid

from peewee import (CharField, DateTimeField, FloatField, ForeignKeyField,
                    IntegerField, Model, TextField, UUIDField)


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Service(UUIDBase):
    pass


class Heartbeat(UUIDBase):
    service = ForeignKeyField(Service, on_delete="CASCADE")
    name = CharField(max_length=200)
    methods = TextField()
    interval_seconds = IntegerField(null=True)
    schedule = CharField(max_length=120, null=True)
    timezone = CharField(max_length=64, default="UTC")
    grace_seconds = IntegerField(default=60)
    max_run_seconds = IntegerField(null=True)
    status = CharField(max_length=16, default="new")
    status_changed_at = DateTimeField(null=True)
    last_signal_at = DateTimeField(null=True)
    last_result = CharField(max_length=16, null=True)
    run_started_at = DateTimeField(null=True)
    deadline_at = DateTimeField(null=True, index=True)
    deadline_cause = CharField(max_length=16, null=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()


class HeartbeatEvent(Base):
    key = CharField(max_length=32, primary_key=True)
    heartbeat = ForeignKeyField(Heartbeat, on_delete="CASCADE")
    result = CharField(max_length=16)
    message = TextField(null=True)
    received_at = DateTimeField()
    ip = CharField(max_length=64, null=True)
    method = CharField(max_length=8)
    user_agent = CharField(max_length=300, null=True)
    duration_seconds = FloatField(null=True)

    class Meta:
        indexes = ((("heartbeat", "received_at"), False),)


class HeartbeatStateChange(UUIDBase):
    heartbeat = ForeignKeyField(Heartbeat, on_delete="CASCADE")
    from_status = CharField(max_length=16)
    to_status = CharField(max_length=16)
    cause = TextField(null=True)
    changed_at = DateTimeField()
    trigger_key = CharField(max_length=64)
    handed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("heartbeat", "trigger_key"), True),
                   (("heartbeat", "changed_at"), False))


NEW = [Heartbeat, HeartbeatEvent, HeartbeatStateChange]


def up(migrator, db):
    with db.bind_ctx(NEW + [Service]):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW + [Service]):
        db.drop_tables(list(reversed(NEW)))
