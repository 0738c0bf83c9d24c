"""Uptime monitor integrations (Statuspage): one row per monitor and external page, one row
per incident opened there; and the peer's answer kept on an outbox delivery (the incident id
Statuspage gives, which the resolve names)."""
import uuid

from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, Model, TextField,
                    UUIDField)


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Monitor(UUIDBase):
    pass


class MonitorIntegration(UUIDBase):
    monitor = ForeignKeyField(Monitor, on_delete="CASCADE", index=True)
    type = CharField(max_length=32)
    page_id = CharField(max_length=64)
    component_ids = TextField()
    name = CharField(max_length=200, null=True)
    status = CharField(max_length=16)
    message = TextField(null=True)
    sealed_api_key = TextField()
    created_at = DateTimeField()
    updated_at = DateTimeField()


class IntegrationIncident(UUIDBase):
    integration = ForeignKeyField(MonitorIntegration, on_delete="CASCADE")
    opened_by = UUIDField()
    external_id = CharField(max_length=64, null=True)
    resolved_by = UUIDField(null=True)
    failed = BooleanField(default=False)
    created_at = DateTimeField()

    class Meta:
        indexes = ((("integration", "opened_by"), True),)


NEW = [MonitorIntegration, IntegrationIncident]
REFERENCED = [Monitor]


def up(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.create_tables(NEW)
    migrator.migrate(migrator.add_column("delivery", "answer", TextField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("delivery", "answer"))
    with db.bind_ctx(NEW + REFERENCED):
        db.drop_tables(list(reversed(NEW)))
