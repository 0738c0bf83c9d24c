"""When a heartbeat's next signal is due: after `interval` seconds, or at the next slot of its
cron schedule in its own time zone (so a 09:00 job stays at 09:00 local across DST)."""
from __future__ import annotations

import datetime as dt

from models import cron


def next_expected(heartbeat, after: dt.datetime) -> dt.datetime | None:
    """When the signal after one received at `after` is due; None for a schedule that never
    fires again (one stored before schedules were checked for that)."""
    if heartbeat.schedule:
        return cron.next_after(heartbeat.schedule, after, timezone=heartbeat.timezone)
    return after + dt.timedelta(seconds=heartbeat.interval_seconds)


def deadline(heartbeat, after: dt.datetime) -> dt.datetime | None:
    """When the heartbeat goes down if nothing arrives after a signal at `after` (None: no
    signal is expected any more)."""
    expected = next_expected(heartbeat, after)
    return None if expected is None else expected + dt.timedelta(seconds=heartbeat.grace_seconds)


def arm(heartbeat) -> None:
    """Keeps the sweep's time at or before the deadline: moved only when the deadline comes
    before it. A later deadline leaves it (the sweep moves it on when it gets there), so most
    signals change no indexed column and Postgres updates their row in place."""
    if heartbeat.deadline_at is not None and (heartbeat.sweep_at is None
                                              or heartbeat.deadline_at < heartbeat.sweep_at):
        heartbeat.sweep_at = heartbeat.deadline_at
