"""Incident webhooks and the events posted to them."""
import uuid

from peewee import CharField, DateTimeField, ForeignKeyField, Model, TextField, UUIDField


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Organisation(UUIDBase):
    pass


class Team(UUIDBase):
    pass


class Webhook(UUIDBase):
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    team = ForeignKeyField(Team, on_delete="CASCADE")
    name = CharField(max_length=200, null=True)
    description = TextField(null=True)
    created_at = DateTimeField()


class WebhookEvent(Base):
    key = CharField(max_length=32, primary_key=True)
    webhook = ForeignKeyField(Webhook, on_delete="CASCADE")
    content_type = CharField(max_length=255, null=True)
    body = TextField()
    ip = CharField(max_length=64, null=True)
    received_at = DateTimeField()
    rules_applied_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("webhook", "received_at"), False),)


NEW = [Webhook, WebhookEvent]


def up(migrator, db):
    with db.bind_ctx(NEW + [Organisation, Team]):
        db.create_tables(NEW)
    # the scheduler's sweep of events no ruleset run finished with
    db.execute_sql("CREATE INDEX webhook_event_unapplied ON webhook_event (received_at) "
                   "WHERE rules_applied_at IS NULL")


def down(migrator, db):
    with db.bind_ctx(NEW + [Organisation, Team]):
        db.drop_tables(list(reversed(NEW)))
