"""Wall-clock time of an IANA zone, fast enough to convert every turn of a year of layers.

A wall time is held as an aware datetime whose digits are the wall clock's and whose tzinfo
is UTC (a "wall"): adding days or hours to it is plain arithmetic on the wall clock, and
`Clock.instant` takes off the offset in force. Instead of asking zoneinfo for each wall time,
a clock keeps a table of the zone's offset changes and reads the offset by bisection (or, for
walls in order, by walking the table); the readings are those of zoneinfo with fold=0
(PEP 495): a skipped wall time at the offset before the change, a repeated one at its first
occurrence.

The table is built from zoneinfo a year at a time (sampled every 6 hours, each change found to
the second by bisection) and kept for the process: tzdata has no two changes within 6 hours
that cancel out in the years anyone schedules on call for. Pure: no clock is read.
"""
from __future__ import annotations

import bisect
import datetime as dt
import threading
import zoneinfo

UTC = dt.timezone.utc
SAMPLE = dt.timedelta(hours=6)
SECOND = dt.timedelta(seconds=1)
MARGIN = dt.timedelta(days=2)            # more than any offset, so a wall maps into the table
FAR = dt.datetime.max.replace(tzinfo=UTC)

_years: dict[tuple[str, int], tuple[dt.timedelta, list]] = {}
_clocks: dict[str, Clock] = {}
_lock = threading.Lock()


def clock(name: str) -> Clock:
    """The clock of the IANA zone `name` (one per zone and process)."""
    found = _clocks.get(name)
    if found is None:
        with _lock:
            found = _clocks.setdefault(name, Clock(name))
    return found


class Clock:
    def __init__(self, name: str):
        self.name = name
        self.zone = UTC if name in ("UTC", "Etc/UTC") else zoneinfo.ZoneInfo(name)
        # (first wall covered, first wall not covered, change points, offsets): offsets[i]
        # holds for walls in [points[i - 1], points[i]). Replaced whole, never changed.
        self.table: tuple = (FAR, FAR, [], [dt.timedelta(0)])
        self.years: tuple[int, int] | None = None

    def wall(self, at: dt.datetime) -> dt.datetime:
        """The wall clock at instant `at`."""
        at = at.astimezone(UTC)
        return at + at.astimezone(self.zone).utcoffset() if self.zone is not UTC else at

    def instant(self, wall: dt.datetime) -> dt.datetime:
        """The instant of a wall time, read with fold=0."""
        low, high, points, offsets = self.table
        if not low <= wall < high:
            low, high, points, offsets = self.cover(wall, wall)
        return wall - offsets[bisect.bisect_right(points, wall)]

    def cover(self, first: dt.datetime, last: dt.datetime) -> tuple:
        """The table, made to cover the walls from `first` to `last`."""
        table = self.table
        if table[0] <= first and last < table[1]:
            return table
        with _lock:
            years = (first.year - 1, last.year + 1)
            if self.years is not None:
                years = (min(years[0], self.years[0]), max(years[1], self.years[1]))
            self.table, self.years = self._build(*years), years
            return self.table

    def walk(self, first: dt.datetime, last: dt.datetime) -> _Walk:
        """Reads the instants of walls given in order, from `first` up to about `last`."""
        return _Walk(self, first, last)

    def _build(self, first_year: int, last_year: int) -> tuple:
        if self.zone is UTC:
            return (dt.datetime.min.replace(tzinfo=UTC), FAR, [], [dt.timedelta(0)])
        points, offsets = [], []
        for year in range(first_year, last_year + 1):
            opening, changes = self._changes(year)
            if not offsets:
                offsets.append(opening)
            for at, before, after in changes:
                # fold=0 reads a wall at the earlier offset until the later of the two walls
                # the change shows: through a repeated hour, and through a skipped one.
                points.append(at + max(before, after))
                offsets.append(after)
        low = dt.datetime(first_year, 1, 1, tzinfo=UTC) + MARGIN
        high = dt.datetime(last_year + 1, 1, 1, tzinfo=UTC) - MARGIN
        return (low, high, points, offsets)

    def _changes(self, year: int) -> tuple[dt.timedelta, list]:
        """The offset at the year's first instant (UTC) and the changes within the year:
        (first instant of the new offset, offset before, offset after)."""
        key = (self.name, year)
        if key not in _years:
            at, end = dt.datetime(year, 1, 1, tzinfo=UTC), dt.datetime(year + 1, 1, 1, tzinfo=UTC)
            opening = before = self._offset(at)
            changes = []
            while at < end:
                following = min(at + SAMPLE, end)
                after = self._offset(following)
                if after != before:
                    changes.append((self._change(at, following, before), before, after))
                at, before = following, after
            _years[key] = (opening, changes)
        return _years[key]

    def _change(self, low: dt.datetime, high: dt.datetime, before: dt.timedelta) -> dt.datetime:
        """The first second in (low, high] off `before`, by bisection."""
        while high - low > SECOND:
            middle = low + SECOND * ((high - low) // SECOND // 2)
            if self._offset(middle) == before:
                low = middle
            else:
                high = middle
        return high

    def _offset(self, at: dt.datetime) -> dt.timedelta:
        return at.astimezone(self.zone).utcoffset()


class _Walk:
    """Instants of walls that come in order: the offset is read once per span between two
    changes, not once per wall."""

    def __init__(self, clock: Clock, first: dt.datetime, last: dt.datetime):
        self.clock = clock
        self._start(clock.cover(first, last), first)

    def _start(self, table: tuple, wall: dt.datetime) -> None:
        self.low, self.high, self.points, self.offsets = table
        self.at = bisect.bisect_right(self.points, wall)
        self.following = self.points[self.at] if self.at < len(self.points) else FAR
        self.preceding = max(self.points[self.at - 1], self.low) if self.at else self.low

    def instant(self, wall: dt.datetime) -> dt.datetime:
        if not self.preceding <= wall < self.high:            # out of order, or past the table
            self._start(self.clock.cover(wall, wall), wall)
        while wall >= self.following:
            self.at += 1
            self.preceding = self.following
            self.following = self.points[self.at] if self.at < len(self.points) else FAR
        return wall - self.offsets[self.at]
