"""What the scheduler keeps in the database: the change log it polls and its watermark."""
from __future__ import annotations

import peewee

from models.db import BaseModel, UtcDateTimeField


class ScheduleChange(BaseModel):
    """A row per change to something scheduled (created, updated, enabled, deleted): the
    scheduler reloads what changed instead of scanning everything."""
    id = peewee.BigAutoField()
    kind = peewee.CharField(max_length=16)      # monitor, heartbeat ...
    target_id = peewee.UUIDField()
    changed_at = UtcDateTimeField(index=True)


class SchedulerState(BaseModel):
    """Named values the active scheduler keeps (the enqueue watermark), read by a successor."""
    name = peewee.CharField(max_length=64, primary_key=True)
    value = peewee.TextField()
    updated_at = UtcDateTimeField()
