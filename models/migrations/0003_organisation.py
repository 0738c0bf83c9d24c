"""Plans, services, notification channels and deliveries, invitations, feedback, deletions."""
import uuid

from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model,
                    TextField, UUIDField)


class Base(Model):
    id = UUIDField(primary_key=True, default=uuid.uuid4)

    class Meta:
        legacy_table_names = False


class Organisation(Base):
    pass


class Team(Base):
    pass


class Customer(Base):
    pass


class Service(Base):
    team = ForeignKeyField(Team, on_delete="CASCADE")
    name = CharField(max_length=200)
    created_at = DateTimeField()


class NotificationChannel(Base):
    customer = ForeignKeyField(Customer, null=True, on_delete="CASCADE")
    team = ForeignKeyField(Team, null=True, on_delete="CASCADE")
    type = CharField(max_length=16)
    value = TextField()
    priority = IntegerField()
    enabled = BooleanField(default=True)
    verified_at = DateTimeField(null=True)
    code_hash = CharField(max_length=64, null=True)
    code_expires_at = DateTimeField(null=True)
    code_attempts = IntegerField(default=0)
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        indexes = ((("customer", "priority"), True), (("team", "priority"), True))


class Delivery(Base):
    channel = ForeignKeyField(NotificationChannel, null=True, on_delete="CASCADE")
    type = CharField(max_length=16)
    address = TextField()
    kind = CharField(max_length=32)
    subject = CharField(max_length=255)
    body = TextField()
    payload = TextField(null=True)
    status = CharField(max_length=16, index=True)
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    created_at = DateTimeField()
    last_attempt_at = DateTimeField(null=True)
    claimed_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)


class Invitation(Base):
    team = ForeignKeyField(Team, on_delete="CASCADE")
    channel_type = CharField(max_length=8)
    channel_value = CharField(max_length=254)
    role = CharField(max_length=16)
    type = CharField(max_length=32)
    token_hash = CharField(max_length=64, unique=True)
    sender = ForeignKeyField(Customer, null=True, on_delete="SET NULL")
    status = CharField(max_length=16)
    created_at = DateTimeField()
    expires_at = DateTimeField()
    last_sent_at = DateTimeField()
    reminders_sent = IntegerField(default=0)
    responded_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("team", "channel_value"), True),)


class Feedback(Base):
    customer = ForeignKeyField(Customer, null=True, on_delete="SET NULL")
    organisation = ForeignKeyField(Organisation, null=True, on_delete="SET NULL")
    text = TextField()
    created_at = DateTimeField()


class AccountDeletion(Base):
    organisation = ForeignKeyField(Organisation, null=True, on_delete="SET NULL")
    customer_id = UUIDField()
    email = CharField(max_length=254)
    reason = TextField()
    deleted_at = DateTimeField()


NEW = [Service, NotificationChannel, Delivery, Invitation, Feedback, AccountDeletion]


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("organisation", "plan", CharField(max_length=32, default="free")),
        migrator.add_column("organisation", "plan_version", CharField(max_length=16, default="v1")),
    )
    with db.bind_ctx(NEW + [Organisation, Team, Customer]):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW + [Organisation, Team, Customer]):
        db.drop_tables(list(reversed(NEW)))
    migrator.migrate(migrator.drop_column("organisation", "plan"),
                     migrator.drop_column("organisation", "plan_version"))
