"""What the scheduler keeps in the database: the change log it polls (what changed among the
things it schedules) and named values such as its watermark. (On-call schedules are another
thing: `models/oncall`.)"""
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


def record_change(kind: str, target_id, *, now) -> None:
    """Tells the scheduler `target_id` changed (call inside the change's transaction)."""
    ScheduleChange.create(kind=kind, target_id=target_id, changed_at=now)


def changed_since(kind: str, since) -> set:
    """Ids of `kind` changed at or after `since`."""
    return {row.target_id for row in ScheduleChange.select(ScheduleChange.target_id)
            .where(ScheduleChange.kind == kind, ScheduleChange.changed_at >= since)}


def forget_changes(before) -> int:
    return ScheduleChange.delete().where(ScheduleChange.changed_at < before).execute()


def read_value(name: str) -> str | None:
    row = SchedulerState.get_or_none(SchedulerState.name == name)
    return None if row is None else row.value


def write_value(name: str, value: str, *, now) -> None:
    (SchedulerState.insert(name=name, value=value, updated_at=now)
     .on_conflict(conflict_target=[SchedulerState.name],
                  update={SchedulerState.value: value, SchedulerState.updated_at: now})
     .execute())
