"""When a heartbeat's next signal is due: after `interval` seconds, or at the next slot of its
cron schedule in its own time zone (so a 09:00 job stays at 09:00 local across DST)."""
from __future__ import annotations

import datetime as dt
import zoneinfo

from croniter import croniter


def next_expected(heartbeat, after: dt.datetime) -> dt.datetime:
    """When the signal after one received at `after` is due."""
    if heartbeat.schedule:
        return next_slot(heartbeat.schedule, heartbeat.timezone, after)
    return after + dt.timedelta(seconds=heartbeat.interval_seconds)


def next_slot(schedule: str, timezone: str, after: dt.datetime) -> dt.datetime:
    """The first slot of `schedule` strictly after `after`, as a UTC instant. croniter walks
    the local wall clock, so a slot in a skipped hour moves on and a repeated hour fires once."""
    local = after.astimezone(zoneinfo.ZoneInfo(timezone))
    slot = croniter(schedule, local).get_next(dt.datetime)
    return slot.astimezone(dt.timezone.utc)


def deadline(heartbeat, after: dt.datetime) -> dt.datetime:
    """When the heartbeat goes down if nothing arrives after a signal at `after`."""
    return next_expected(heartbeat, after) + dt.timedelta(seconds=heartbeat.grace_seconds)
