"""On-call: team schedule entries; OCS contacts, schedules, tiers and on-demand shifts."""
import uuid

from peewee import (AutoField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model,
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


class TeamScheduleEntry(UUIDBase):
    team = ForeignKeyField(Team, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, on_delete="CASCADE")
    start_date = DateTimeField()
    end_date = DateTimeField()
    months_of_year = TextField(null=True)
    weeks_of_month = TextField(null=True)
    week_days = TextField(null=True)
    start_time = CharField(max_length=8)
    end_time = CharField(max_length=8)
    timezone = CharField(max_length=64, default="UTC")
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        indexes = ((("team", "customer", "created_at"), True),)


class Contact(Base):
    id = AutoField()
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, unique=True, backref="+", on_delete="CASCADE")


class OcsSchedule(Base):
    id = AutoField()
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    customer = ForeignKeyField(Customer, null=True, backref="+", on_delete="SET NULL")
    name = CharField(max_length=200)
    default_email = CharField(max_length=320, null=True)
    default_phone = CharField(max_length=32, null=True)
    escalation_loops = IntegerField(default=2)
    created_by = ForeignKeyField(Customer, null=True, backref="+", on_delete="SET NULL")
    updated_by = ForeignKeyField(Customer, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField()
    updated_at = DateTimeField()


class OcsTier(Base):
    id = AutoField()
    schedule = ForeignKeyField(OcsSchedule, on_delete="CASCADE")
    number = IntegerField()
    layers = TextField()
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        indexes = ((("schedule", "number"), True),)


class OnDemandShift(Base):
    id = AutoField()
    tier = ForeignKeyField(OcsTier, on_delete="CASCADE")
    contact = ForeignKeyField(Contact, backref="+", on_delete="CASCADE")
    start_at = DateTimeField()
    end_at = DateTimeField()
    created_at = DateTimeField()

    class Meta:
        indexes = ((("tier", "start_at"), False),)


NEW = [TeamScheduleEntry, Contact, OcsSchedule, OcsTier, OnDemandShift]
REFERENCED = [Organisation, Team, Customer]


def up(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.drop_tables(list(reversed(NEW)))
