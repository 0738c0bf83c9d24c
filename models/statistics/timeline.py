"""A monitor's overall status over a range, to tell for any span how long the monitor was
watched and how long it was down.

Watched: from its creation until now, outside maintenance windows. Down: while the overall
status (the state changes without a region, starting from the last one before the range) was
"down", outside maintenance windows. Times are epoch seconds, so each span costs a couple of
binary searches however many changes and windows the range holds.
"""
from __future__ import annotations

import datetime as dt
from bisect import bisect_right

import peewee

from models.monitors import maintenance
from models.state_changes import StateChange


class Timeline:
    def __init__(self, watched: list[tuple[float, float]], down: list[tuple[float, float]]):
        self._watched = _Coverage(watched)
        self._down = _Coverage(_intersect(down, watched))

    @classmethod
    def of(cls, monitor, start: dt.datetime, end: dt.datetime, *, now: dt.datetime) -> Timeline:
        """The timeline of `monitor` over [start, end) as known at `now`."""
        low, high = max(start, monitor.created_at), min(end, now)
        if high <= low:
            return cls([], [])
        windows = maintenance.windows(monitor.maintenance_cron_expression,
                                      monitor.maintenance_duration, low, high)
        watched = _subtract([(low.timestamp(), high.timestamp())],
                            [(a.timestamp(), b.timestamp()) for a, b in windows])
        return cls(watched, _down_spans(monitor, low, high))

    def watched_seconds(self, start: float, end: float) -> float:
        return self._watched.within(start, end)

    def down_seconds(self, start: float, end: float) -> float:
        return self._down.within(start, end)

    def per_bucket(self, edges: list[float]) -> tuple[list[float], list[float]]:
        """Watched and down seconds of each bucket between consecutive `edges` (one binary
        search per edge rather than two per bucket: a month has 720 hourly buckets)."""
        return self._watched.per_bucket(edges), self._down.per_bucket(edges)


def _down_spans(monitor, low: dt.datetime, high: dt.datetime) -> list[tuple[float, float]]:
    """The spans of [low, high) in which the overall status was down."""
    overall = ((StateChange.subject_type == "monitor") & (StateChange.subject_id == monitor.id)
               & StateChange.region.is_null())
    last_before = (StateChange.select(peewee.fn.MAX(StateChange.changed_at))
                   .where(overall, StateChange.changed_at < low))
    # one query: the last change before the range (the status it starts with), then its own
    changes = (StateChange.select(StateChange.to_status, StateChange.changed_at)
               .where(overall, StateChange.changed_at < high,
                      StateChange.changed_at >= peewee.fn.COALESCE(
                          last_before, StateChange.changed_at.db_value(low)))
               .order_by(StateChange.changed_at).tuples())
    status, since, spans = "unknown", low, []
    for to_status, changed_at in changes:
        changed_at = max(changed_at, low)
        if status == "down" and since < changed_at:
            spans.append((since.timestamp(), changed_at.timestamp()))
        status, since = to_status, changed_at
    if status == "down":
        spans.append((since.timestamp(), high.timestamp()))
    return spans


class _Coverage:
    """Sorted, disjoint spans, answering how many of their seconds fall in a span."""

    def __init__(self, spans: list[tuple[float, float]]):
        self._starts = [a for a, _ in spans]
        self._ends = [b for _, b in spans]
        self._before = [0.0]                 # seconds covered by the spans before the i-th
        for a, b in spans:
            self._before.append(self._before[-1] + b - a)

    def within(self, start: float, end: float) -> float:
        return self._until(end) - self._until(start)

    def per_bucket(self, edges: list[float]) -> list[float]:
        if not self._starts:
            return [0.0] * (len(edges) - 1)
        until = list(map(self._until, edges))
        return [high - low for low, high in zip(until, until[1:])]

    def _until(self, instant: float) -> float:
        index = bisect_right(self._starts, instant)
        if not index:
            return 0.0
        last = index - 1
        return self._before[last] + min(instant, self._ends[last]) - self._starts[last]


def _subtract(spans: list, holes: list) -> list:
    """`spans` without `holes` (both sorted and disjoint)."""
    kept = []
    for start, end in spans:
        for hole_start, hole_end in holes:
            if hole_end <= start or hole_start >= end:
                continue
            if hole_start > start:
                kept.append((start, hole_start))
            start = max(start, hole_end)
        if start < end:
            kept.append((start, end))
    return kept


def _intersect(spans: list, others: list) -> list:
    """The parts of `spans` inside `others` (both sorted and disjoint)."""
    found, index = [], 0
    for start, end in spans:
        while index < len(others) and others[index][1] <= start:
            index += 1
        probe = index
        while probe < len(others) and others[probe][0] < end:
            low, high = max(start, others[probe][0]), min(end, others[probe][1])
            if low < high:
                found.append((low, high))
            probe += 1
    return found
