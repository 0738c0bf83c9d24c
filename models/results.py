"""Check results: one row per monitor, region and due time, and their hourly rollups."""
from __future__ import annotations

import peewee

from models.db import BaseModel, UtcDateTimeField
from models.monitors.tables import JSONField, Monitor

ALL_REGIONS = "*"     # the region of a rollup row over all of a monitor's regions (no region's name)


class CheckResult(BaseModel):
    """The outcome of one scheduled check in one region. (monitor, due_at, region) is the
    key: a check that runs twice (a redelivered batch) is recorded once. No surrogate id, so
    each insert maintains one index (plus a BRIN on due_at on Postgres, for purges)."""
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
        primary_key = peewee.CompositeKey("monitor", "due_at", "region")


class ResultHourly(BaseModel):
    """One monitor's results of one hour in one region (or over all its regions: region
    ALL_REGIONS), rebuilt from the raw results (never incremented), so raw rows can expire
    while reports over long ranges stay fast."""
    monitor = peewee.ForeignKeyField(Monitor, on_delete="CASCADE", index=False)
    region = peewee.CharField(max_length=64)
    hour = UtcDateTimeField()
    checks = peewee.IntegerField()
    failures = peewee.IntegerField()             # outside maintenance
    maintenance_checks = peewee.IntegerField()
    response_count = peewee.IntegerField()
    # response times in whole microseconds: integers cost Postgres and the driver a fraction
    # of what floats do, and a month's report reads 3,000 rows of them
    response_sum_us = peewee.BigIntegerField()
    response_min_us = peewee.BigIntegerField(null=True)
    response_max_us = peewee.BigIntegerField(null=True)
    response_p95_us = peewee.BigIntegerField(null=True)  # exact, of the hour's responses
    histogram = JSONField()     # response times, as models/statistics/histogram.py stores them

    class Meta:
        primary_key = peewee.CompositeKey("monitor", "hour", "region")
