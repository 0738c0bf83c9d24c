"""Check results: one row per monitor, region and due time, and their hourly rollups."""
from __future__ import annotations

import peewee

from models.db import BaseModel, UtcDateTimeField
from models.monitors.tables import JSONField, Monitor


class CheckResult(BaseModel):
    """The outcome of one scheduled check in one region. (monitor, due_at, region) is unique:
    a check that runs twice (a redelivered batch) is recorded once."""
    id = peewee.BigAutoField()
    monitor = peewee.ForeignKeyField(Monitor, on_delete="CASCADE", index=False)
    region = peewee.CharField(max_length=64)
    due_at = UtcDateTimeField()
    checked_at = UtcDateTimeField()          # the worker's NTP-corrected time
    ok = peewee.BooleanField()               # the check passed (probe and conditions)
    in_maintenance = peewee.BooleanField(default=False)
    response_ms = peewee.FloatField(null=True)
    status_code = peewee.SmallIntegerField(null=True)
    dns_ms = peewee.FloatField(null=True)
    connect_ms = peewee.FloatField(null=True)
    tls_ms = peewee.FloatField(null=True)
    first_byte_ms = peewee.FloatField(null=True)
    error = peewee.TextField(null=True)

    class Meta:
        indexes = ((("monitor", "due_at", "region"), True),)


class ResultHourly(BaseModel):
    """One monitor's results of one hour in one region, rebuilt from the raw results (never
    incremented), so raw rows can expire while reports over long ranges stay fast."""
    id = peewee.BigAutoField()
    monitor = peewee.ForeignKeyField(Monitor, on_delete="CASCADE", index=False)
    region = peewee.CharField(max_length=64)
    hour = UtcDateTimeField()
    checks = peewee.IntegerField()
    failures = peewee.IntegerField()             # outside maintenance
    maintenance_checks = peewee.IntegerField()
    response_count = peewee.IntegerField()
    response_sum_ms = peewee.FloatField()
    response_min_ms = peewee.FloatField(null=True)
    response_max_ms = peewee.FloatField(null=True)
    histogram = JSONField()                      # response-time counts per bucket (p95)

    class Meta:
        indexes = ((("monitor", "hour", "region"), True),)
