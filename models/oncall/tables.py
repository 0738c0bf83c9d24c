"""What the two on-call APIs store. Shifts are never stored: the engine computes them.

Team schedules (98-101): one entry gives one member the shifts of its recurrence; it is named
by (team member, `created_at` to the second), unique per team.

OCS (126-144): a schedule has tiers (`number` 1, 2, ...: the escalation order; unique per
schedule); a tier keeps its layers as they came (rotation and restrictions as JSON strings or
objects, answered the same way) and has on-demand shifts. Contacts give the organisation's
members the integer ids the OCS API names people by.
"""
from __future__ import annotations

import peewee

from models.accounts import Customer
from models.db import BaseModel, JSONField, UtcDateTimeField, UUIDModel
from models.organisations import Organisation, Team


class TeamScheduleEntry(UUIDModel):
    team = peewee.ForeignKeyField(Team, backref="schedule_entries", on_delete="CASCADE")
    customer = peewee.ForeignKeyField(Customer, backref="schedule_entries", on_delete="CASCADE")
    start_date = UtcDateTimeField()
    end_date = UtcDateTimeField()
    months_of_year = JSONField(null=True)        # None: every month
    weeks_of_month = JSONField(null=True)        # None: every week
    week_days = JSONField(null=True)             # None: every day (0 = Sunday)
    start_time = peewee.CharField(max_length=8)  # HH:MM:SS, wall clock in `timezone`
    end_time = peewee.CharField(max_length=8)    # before start_time: runs past midnight
    timezone = peewee.CharField(max_length=64, default="UTC")
    created_at = UtcDateTimeField()              # to the second: half of the entry's name
    updated_at = UtcDateTimeField()

    class Meta:
        indexes = ((("team", "customer", "created_at"), True),)


class Contact(BaseModel):
    """A member as the OCS API names them: an integer id per customer."""
    id = peewee.AutoField()
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    customer = peewee.ForeignKeyField(Customer, unique=True, backref="+", on_delete="CASCADE")


class OcsSchedule(BaseModel):
    id = peewee.AutoField()
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    customer = peewee.ForeignKeyField(Customer, null=True, backref="+", on_delete="SET NULL")
    name = peewee.CharField(max_length=200)
    default_email = peewee.CharField(max_length=320, null=True)
    default_phone = peewee.CharField(max_length=32, null=True)
    escalation_loops = peewee.IntegerField(default=2)   # rounds over all tiers
    created_by = peewee.ForeignKeyField(Customer, null=True, backref="+", on_delete="SET NULL")
    updated_by = peewee.ForeignKeyField(Customer, null=True, backref="+", on_delete="SET NULL")
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class OcsTier(BaseModel):
    id = peewee.AutoField()
    schedule = peewee.ForeignKeyField(OcsSchedule, backref="tiers", on_delete="CASCADE")
    number = peewee.IntegerField()
    layers = JSONField()                         # [{start, rotation, restrictions, contacts,
                                                 #   index, tz}] as they came
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        indexes = ((("schedule", "number"), True),)


class OnDemandShift(BaseModel):
    id = peewee.AutoField()
    tier = peewee.ForeignKeyField(OcsTier, backref="on_demand", on_delete="CASCADE")
    contact = peewee.ForeignKeyField(Contact, backref="+", on_delete="CASCADE")
    start_at = UtcDateTimeField()
    end_at = UtcDateTimeField()
    created_at = UtcDateTimeField()

    class Meta:
        indexes = ((("tier", "start_at"), False),)
