"""Check results: one row per monitor, region and due time, and their hourly rollups."""
from __future__ import annotations

import peewee

from models.db import BaseModel, JSONField, UtcDateTimeField
from models.monitors.tables import Monitor


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
    """One monitor's results of one hour, over all its regions and per region, rebuilt from
    the raw results (never incremented), so raw rows can expire while reports over long
    ranges stay fast.

    One row per monitor and hour, its regions folded into `regions`: a month's report in
    hourly buckets reads 720 rows rather than one per region too. Response times are whole
    microseconds: integers cost Postgres and the driver a fraction of what floats do."""
    monitor = peewee.ForeignKeyField(Monitor, on_delete="CASCADE", index=False)
    hour = UtcDateTimeField()
    checks = peewee.IntegerField()
    failures = peewee.IntegerField()             # outside maintenance
    maintenance_checks = peewee.IntegerField()
    response_count = peewee.IntegerField()
    response_sum_us = peewee.BigIntegerField()
    response_min_us = peewee.BigIntegerField(null=True)
    response_max_us = peewee.BigIntegerField(null=True)
    response_p95_us = peewee.BigIntegerField(null=True)  # exact, of the hour's responses
    histogram = JSONField()     # response times, as models/statistics/histogram.py stores them
    # {region: [the figures above, from checks to histogram, in REGION_FIGURES order]}
    regions = JSONField()
    # the hour as a report's hourly bucket gives it (checks, failures, response_ms and
    # regions, as JSON text), for the regions named in `rendered_regions` (sorted, comma
    # separated): a month's report splices these rather than making 720 buckets again.
    # NULL in rows written before it was kept (the report shapes those from `regions`)
    rendered = peewee.TextField(null=True)
    rendered_regions = peewee.TextField(null=True)

    class Meta:
        primary_key = peewee.CompositeKey("monitor", "hour")


class ResultDaily(BaseModel):
    """One monitor's completed UTC day, summed from its hourly rollups once their hours are
    final: a report's figures per region over a month merge 30 histograms per region rather
    than 720, and a report in days reads a row a day. The figures over all regions
    (`overall`) and each region's (`regions`) are lists in REGION_FIGURES order; a day's p95
    is kept only where one hour of it had responses (exact then), else it is None and read
    from the histogram."""
    monitor = peewee.ForeignKeyField(Monitor, on_delete="CASCADE", index=False)
    day = UtcDateTimeField()
    overall = JSONField()
    regions = JSONField()

    class Meta:
        primary_key = peewee.CompositeKey("monitor", "day")


REGION_FIGURES = ("checks", "failures", "maintenance_checks", "response_count",
                  "response_sum_us", "response_min_us", "response_max_us", "response_p95_us",
                  "histogram")
