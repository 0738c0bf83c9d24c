"""Server monitors: servers with their push key and silence deadline, their state changes, and
the agents' readings."""
import uuid

from peewee import (BooleanField, CharField, CompositeKey, DateTimeField, ForeignKeyField,
                    IntegerField, Model, TextField, UUIDField)


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Service(UUIDBase):
    pass


class Server(UUIDBase):
    service = ForeignKeyField(Service, on_delete="CASCADE")
    name = CharField(max_length=200)
    description = TextField(null=True)
    timezone = CharField(max_length=64, default="UTC")
    chart_type_default = CharField(max_length=16, default="line")
    enabled = BooleanField(default=True)
    token = CharField(max_length=64)
    status = CharField(max_length=16, default="pending")
    status_changed_at = DateTimeField(null=True)
    last_report_at = DateTimeField(null=True)
    push_interval_seconds = IntegerField(null=True)
    deadline_at = DateTimeField(null=True, index=True)   # the silence sweep reads a range of it
    created_at = DateTimeField()
    updated_at = DateTimeField()


class ServerStateChange(UUIDBase):
    server = ForeignKeyField(Server, on_delete="CASCADE")
    from_status = CharField(max_length=16)
    to_status = CharField(max_length=16)
    cause = TextField(null=True)
    changed_at = DateTimeField()
    trigger_key = CharField(max_length=128)
    handed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("server", "trigger_key"), True),
                   (("server", "changed_at"), False))


class ServerMetric(Base):
    server = ForeignKeyField(Server, on_delete="CASCADE", index=False)
    type = CharField(max_length=32)
    at = DateTimeField()
    data = TextField()

    class Meta:
        primary_key = CompositeKey("server", "type", "at")


NEW = [Server, ServerStateChange, ServerMetric]


def up(migrator, db):
    with db.bind_ctx(NEW + [Service]):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW + [Service]):
        db.drop_tables(list(reversed(NEW)))
