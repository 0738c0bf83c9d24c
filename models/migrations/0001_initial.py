"""Accounts, organisations, teams, sessions, one-time codes and the mail outbox."""
import uuid

from peewee import (CharField, DateTimeField, ForeignKeyField, IntegerField, Model,
                    TextField, UUIDField)


class Base(Model):
    id = UUIDField(primary_key=True, default=uuid.uuid4)

    class Meta:
        legacy_table_names = False


class Organisation(Base):
    name = CharField(max_length=200)
    created_at = DateTimeField()


class Customer(Base):
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    email = CharField(max_length=254, unique=True)
    name = CharField(max_length=100)
    surname = CharField(max_length=100)
    password_hash = CharField(max_length=255)
    created_at = DateTimeField()
    confirmed_at = DateTimeField(null=True)
    password_changed_at = DateTimeField()


class Team(Base):
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    name = CharField(max_length=200)
    created_at = DateTimeField()


class Membership(Base):
    team = ForeignKeyField(Team, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    role = CharField(max_length=16)
    joined_at = DateTimeField()

    class Meta:
        indexes = ((("team", "customer"), True),)


class Session(Base):
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    access_hash = CharField(max_length=64, unique=True)
    refresh_hash = CharField(max_length=64, unique=True)
    access_expires_at = DateTimeField()
    refresh_expires_at = DateTimeField(index=True)
    created_at = DateTimeField()
    revoked_at = DateTimeField(null=True)
    ip = CharField(max_length=64, null=True)
    user_agent = CharField(max_length=255, null=True)


class OneTimeCode(Base):
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    purpose = CharField(max_length=32)
    code_hash = CharField(max_length=64)
    target = CharField(max_length=254, null=True)
    created_at = DateTimeField()
    expires_at = DateTimeField(index=True)
    attempts = IntegerField(default=0)
    used_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("customer", "purpose"), False),)


class MailOutbox(Base):
    to_address = CharField(max_length=254)
    subject = CharField(max_length=255)
    body = TextField()
    status = CharField(max_length=16, index=True)
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    created_at = DateTimeField()
    last_attempt_at = DateTimeField(null=True)
    claimed_until = DateTimeField(null=True)
    sent_at = DateTimeField(null=True)


MODELS = [Organisation, Customer, Team, Membership, Session, OneTimeCode, MailOutbox]


def up(migrator, db):
    with db.bind_ctx(MODELS):
        db.create_tables(MODELS)


def down(migrator, db):
    with db.bind_ctx(MODELS):
        db.drop_tables(list(reversed(MODELS)))
