"""Cron expressions (croniter), the one way in for heartbeat schedules and maintenance windows.

An expression is accepted once (`problem`): five fields, and at least one occurrence within
`HORIZON_YEARS`, since croniter parses `0 0 30 2 *` happily and then raises on every walk.
Walking never raises: an expression that has no further occurrence (one stored before this
check, or the end of a range) gives None or stops, so one tenant's expression can fail only
its own rule, never a batch it is computed in.
"""
from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Iterator

from croniter import CroniterError, croniter

HORIZON_YEARS = 5
EXAMPLE = "'0 3 * * *'"


def problem(expression: str, *, timezone: str = "UTC", now: dt.datetime) -> str | None:
    """Why `expression` cannot be used, or None if it can."""
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        return f"not a cron expression of five fields, e.g. {EXAMPLE}"
    if _walk(expression, now, timezone).get_next(dt.datetime) is None:
        return f"never occurs in the next {HORIZON_YEARS} years"
    return None


def next_after(expression: str, after: dt.datetime, *, timezone: str = "UTC") -> dt.datetime | None:
    """The first occurrence strictly after `after`, as a UTC instant; None if there is none
    within `HORIZON_YEARS`. The walk is on the wall clock of `timezone`, so a slot in a
    skipped hour moves on and a repeated hour fires once."""
    return _utc(_walk(expression, after, timezone).get_next(dt.datetime))


def previous_at_or_before(expression: str, at: dt.datetime, *,
                          timezone: str = "UTC") -> dt.datetime | None:
    """The last occurrence at or before `at` (UTC), or None."""
    # croniter walks back strictly before its start, so it starts a second after `at`; from
    # `at`'s whole second, or in a minute's last second it would find the next minute
    return _utc(_walk(expression, at.replace(microsecond=0) + dt.timedelta(seconds=1),
                      timezone).get_prev(dt.datetime))


def occurrences(expression: str, after: dt.datetime, *,
                timezone: str = "UTC") -> Iterator[dt.datetime]:
    """Every occurrence strictly after `after`, in order (UTC), until there is none."""
    walk = _walk(expression, after, timezone)
    while (found := walk.get_next(dt.datetime)) is not None:
        yield _utc(found)


class _Walk:
    """croniter, answering None where it would raise (no occurrence within the horizon, or
    an expression it cannot walk)."""

    def __init__(self, expression: str, start: dt.datetime):
        try:
            self._iter = croniter(expression, start, max_years_between_matches=HORIZON_YEARS)
        except (CroniterError, ValueError, KeyError):
            self._iter = None

    def get_next(self, kind):
        return self._step("get_next", kind)

    def get_prev(self, kind):
        return self._step("get_prev", kind)

    def _step(self, direction: str, kind):
        if self._iter is None:
            return None
        try:
            return getattr(self._iter, direction)(kind)
        except (CroniterError, ValueError, OverflowError):
            self._iter = None
            return None


def _walk(expression: str, start: dt.datetime, timezone: str) -> _Walk:
    return _Walk(expression, start.astimezone(zoneinfo.ZoneInfo(timezone)))


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.astimezone(dt.timezone.utc)
