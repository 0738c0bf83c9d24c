"""Maintenance windows: a cron expression starts a window of `duration` minutes (UTC)."""
from __future__ import annotations

import datetime as dt

from models import cron


def windows(expression: str | None, duration_minutes: int | None, start: dt.datetime,
            end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The windows that overlap [start, end), merged where they touch, in order."""
    if not expression or not duration_minutes:
        return []
    length = dt.timedelta(minutes=duration_minutes)
    found: list[tuple[dt.datetime, dt.datetime]] = []
    for opened in cron.occurrences(expression, start - length):
        if opened >= end:
            break
        closed = opened + length
        if closed <= start:
            continue
        if found and opened <= found[-1][1]:
            found[-1] = (found[-1][0], max(found[-1][1], closed))
        else:
            found.append((opened, closed))
    return found


def in_window(expression: str | None, duration_minutes: int | None, at: dt.datetime) -> bool:
    """Whether `at` falls in a maintenance window."""
    if not expression or not duration_minutes:
        return False
    opened = cron.previous_at_or_before(expression, at)
    return opened is not None and opened <= at < opened + dt.timedelta(minutes=duration_minutes)
