"""Uptime monitors and what is kept about them: per-region state, facts about their certificate
and domain, expiry reminders. (Their state changes are `models.state_changes`.)"""
from __future__ import annotations

import peewee

from models.db import JSONField, UtcDateTimeField, UUIDModel
from models.services import Service

TYPES = ("http", "keyword", "ping", "port", "ssl", "tld")


class Monitor(UUIDModel):
    service = peewee.ForeignKeyField(Service, backref="monitors", on_delete="CASCADE")
    name = peewee.CharField(max_length=200)
    type = peewee.CharField(max_length=16)
    url = peewee.TextField(null=True)
    host = peewee.CharField(max_length=255, null=True)
    port = peewee.IntegerField(null=True)
    method = peewee.CharField(max_length=8, default="GET")
    headers = JSONField(null=True)                 # {"name": "value"}
    body = peewee.TextField(null=True)
    data = peewee.TextField(null=True)             # the keyword of keyword monitors
    conditions = JSONField(null=True)              # [{type, key, operator, values}]
    skip_ssl_error = peewee.BooleanField(default=False)
    not_follow_redirect = peewee.BooleanField(default=False)
    is_advanced = peewee.BooleanField(default=False)
    grace_period = peewee.IntegerField(default=0)          # seconds
    recovery_period = peewee.IntegerField(default=0)       # seconds
    maintenance_cron_expression = peewee.CharField(max_length=120, null=True)
    maintenance_duration = peewee.IntegerField(null=True)  # minutes
    interval_seconds = peewee.IntegerField(default=60)
    timeout_seconds = peewee.IntegerField(default=10)
    regions = JSONField()                                  # ["eu-central-1", ...]
    enabled = peewee.BooleanField(default=True)
    status = peewee.CharField(max_length=16, default="unknown")   # up, down, unknown
    status_changed_at = UtcDateTimeField(null=True)
    version = peewee.IntegerField(default=1)               # bumped by every change
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        indexes = ((("enabled",), False),)


class RegionState(UUIDModel):
    """One region's view of a monitor. Written only when something changes (a failure streak
    starts or ends, the status flips), not on every check."""
    monitor = peewee.ForeignKeyField(Monitor, backref="region_states", on_delete="CASCADE")
    region = peewee.CharField(max_length=64)
    status = peewee.CharField(max_length=16, default="unknown")
    failing_since = UtcDateTimeField(null=True)     # first failure of the current streak
    passing_since = UtcDateTimeField(null=True)     # first success while down
    last_error = peewee.TextField(null=True)
    changed_at = UtcDateTimeField(null=True)

    class Meta:
        indexes = ((("monitor", "region"), True),)


class MonitorFacts(UUIDModel):
    """The latest certificate (`ssl`) or domain registration (`tld`) facts of a monitor."""
    monitor = peewee.ForeignKeyField(Monitor, backref="facts", on_delete="CASCADE")
    kind = peewee.CharField(max_length=8)
    data = JSONField()
    checked_at = UtcDateTimeField()

    class Meta:
        indexes = ((("monitor", "kind"), True),)


class ExpiryReminder(UUIDModel):
    monitor = peewee.ForeignKeyField(Monitor, backref="reminders", on_delete="CASCADE")
    kind = peewee.CharField(max_length=8)           # ssl or tld
    days_before = JSONField()                       # [1, 7, 30]
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        indexes = ((("monitor", "kind"), True),)


class ReminderSent(UUIDModel):
    """One reminder per monitor, kind, threshold and expiry date: never two. Its messages
    (`models.outbox`) are keyed by the same and their destination."""
    monitor = peewee.ForeignKeyField(Monitor, on_delete="CASCADE")
    kind = peewee.CharField(max_length=8)
    days_before = peewee.IntegerField()
    expires_on = peewee.DateField()
    sent_at = UtcDateTimeField()

    class Meta:
        indexes = ((("monitor", "kind", "days_before", "expires_on"), True),)
