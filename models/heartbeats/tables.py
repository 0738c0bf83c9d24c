"""Heartbeat monitors, the signals they receive, and their state changes."""
from __future__ import annotations

import peewee

from models.db import BaseModel, JSONField, UtcDateTimeField, UUIDModel
from models.services import Service

RESULTS = ("tick", "run", "complete", "fail")
METHODS = ("GET", "POST", "HEAD")


class Heartbeat(UUIDModel):
    """Expects a signal every `interval_seconds` (or at each slot of the cron `schedule` in
    `timezone`), plus `grace_seconds`. `deadline_at` is when it goes down if nothing arrives;
    `sweep_at`, at or before it, is when the scheduler's sweep looks at it next (its index of
    due times: `expectations.arm`)."""
    service = peewee.ForeignKeyField(Service, backref="heartbeats", on_delete="CASCADE")
    name = peewee.CharField(max_length=200)
    methods = JSONField()                               # ["GET", "POST", "HEAD"]
    interval_seconds = peewee.IntegerField(null=True)
    schedule = peewee.CharField(max_length=120, null=True)
    timezone = peewee.CharField(max_length=64, default="UTC")
    grace_seconds = peewee.IntegerField(default=60)
    max_run_seconds = peewee.IntegerField(null=True)
    status = peewee.CharField(max_length=16, default="new")   # new (no signal yet), up, down
    status_changed_at = UtcDateTimeField(null=True)
    last_signal_at = UtcDateTimeField(null=True)
    last_result = peewee.CharField(max_length=16, null=True)
    run_started_at = UtcDateTimeField(null=True)
    deadline_at = UtcDateTimeField(null=True)
    deadline_cause = peewee.CharField(max_length=16, null=True)    # missed, run_timeout
    sweep_at = UtcDateTimeField(null=True, index=True)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class HeartbeatEvent(BaseModel):
    """One signal as the gateway received it. `key` is the gateway's id for it, so a batch
    stored twice (a flusher killed before it acknowledged) keeps one row per signal."""
    key = peewee.CharField(max_length=32, primary_key=True)
    heartbeat = peewee.ForeignKeyField(Heartbeat, backref="events", on_delete="CASCADE")
    result = peewee.CharField(max_length=16)
    message = peewee.TextField(null=True)
    received_at = UtcDateTimeField()
    ip = peewee.CharField(max_length=64, null=True)
    method = peewee.CharField(max_length=8)
    user_agent = peewee.CharField(max_length=300, null=True)
    duration_seconds = peewee.FloatField(null=True)     # of the run a `complete` ends

    class Meta:
        indexes = ((("heartbeat", "received_at"), False),)
