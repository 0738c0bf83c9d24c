"""The probe schedule: when each enabled monitor is due, and the enqueueing of due checks.

Due times are fixed by the monitor alone: every `interval` seconds at a phase taken from its
id, so a thousand monitors of one interval spread evenly over it, and any scheduler computes
the same times. The active scheduler keeps them in a heap (rebuilt from Postgres at start and
after a pause), reloads the monitors named in the change log, and every tick enqueues the
checks due since its watermark, one message per region and due second (at most `batch_size`
checks each), then moves the watermark. A successor resumes from the stored watermark, so a
take-over neither skips nor repeats checks (except those enqueued in the instant between a
leader's last enqueue and its watermark write, which are recorded once all the same).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
import logging
import time
from collections import defaultdict
from typing import Callable

import peewee

from models import changelog
from models.monitors.tables import Monitor

log = logging.getLogger(__name__)

WATERMARK = "probes.watermark"
CHANGE_LOOKBACK = dt.timedelta(seconds=30)   # changes committed late still get seen
MAX_CATCH_UP_SECONDS = 60                    # older slots would be stale by the time they ran
REBUILD_AFTER_PAUSE_SECONDS = 10


@dataclasses.dataclass
class Entry:
    key: str              # the id as sent in messages
    interval: int
    phase: int
    regions: list
    version: int
    generation: int


def phase_of(monitor_id, interval: int) -> int:
    return monitor_id.int % interval


def next_due(after: int, interval: int, phase: int) -> int:
    """The first due second strictly after `after`."""
    return ((after - phase) // interval + 1) * interval + phase


class ProbeSchedule:
    def __init__(self, enqueue: Callable[[str, int, list], None], *, batch_size: int = 200):
        self.enqueue = enqueue        # enqueue(region, due_epoch, [[monitor_id, version], ...])
        self.batch_size = batch_size
        self.entries: dict = {}
        # (due second, tie-breaking number, monitor id, generation): ints compare fast,
        # so the heap never falls back to comparing UUIDs
        self.heap: list = []
        self._numbers = itertools.count()
        self.watermark: int | None = None
        self.changes_seen_at: dt.datetime | None = None
        self.last_tick = float("-inf")

    def tick(self, *, now: dt.datetime) -> int:
        """Enqueues every check due up to `now` not enqueued yet; answers how many."""
        if time.monotonic() - self.last_tick > REBUILD_AFTER_PAUSE_SECONDS:
            self.rebuild(now=now)
        self.last_tick = time.monotonic()
        current = int(now.timestamp())
        if current <= self.watermark:
            return 0       # ticks come several times a second; a new second brings work
        try:
            self._apply_changes(now)
        except peewee.DatabaseError as exc:     # Postgres restarting: checks go on as known,
            log.warning("probe schedule: changes not read (%s); enqueueing as known", exc)
        due = self._pop_due(current)
        try:
            for (region, second), checks in sorted(due.items()):
                for start in range(0, len(checks), self.batch_size):
                    self.enqueue(region, second, checks[start:start + self.batch_size])
        except Exception:
            # the heap has moved past checks that were not enqueued (Redis restarting):
            # rebuild from the watermark, which has not moved, and enqueue them again (those
            # enqueued already are recorded once all the same)
            self.last_tick = float("-inf")
            raise
        self.watermark = current
        try:
            changelog.write_value(WATERMARK, str(current), now=now)
        except peewee.DatabaseError as exc:     # a successor may then repeat a few checks
            log.warning("probe schedule: watermark not stored (%s)", exc)
        return sum(len(checks) for checks in due.values())

    def rebuild(self, *, now: dt.datetime) -> None:
        """Loads every enabled monitor and the stored watermark (the predecessor's progress)."""
        stored = changelog.read_value(WATERMARK)
        current = int(now.timestamp())
        self.watermark = max(int(stored) if stored else current - 1,
                             current - MAX_CATCH_UP_SECONDS)
        self.entries, self.heap = {}, []
        self.changes_seen_at = now
        for row in Monitor.select(Monitor.id, Monitor.interval_seconds, Monitor.regions,
                                  Monitor.version).where(Monitor.enabled == True):  # noqa: E712
            self._add(row)
        log.info("probe schedule: %d monitors loaded, resuming after %s", len(self.entries),
                 dt.datetime.fromtimestamp(self.watermark, dt.timezone.utc).isoformat())

    def _apply_changes(self, now) -> None:
        changed = changelog.changed_since("monitor", self.changes_seen_at - CHANGE_LOOKBACK)
        self.changes_seen_at = now
        if not changed:
            return
        found = {row.id: row for row in Monitor.select(
            Monitor.id, Monitor.interval_seconds, Monitor.regions, Monitor.version,
            Monitor.enabled).where(Monitor.id.in_(list(changed)))}
        for monitor_id in changed:
            row = found.get(monitor_id)
            known = self.entries.get(monitor_id)
            if row is not None and known is not None and known.version == row.version:
                continue     # seen already (the lookback repeats recent changes)
            self.entries.pop(monitor_id, None)
            if row is not None and row.enabled:
                self._add(row, generation=(known.generation + 1) if known else 0)

    def _add(self, row, generation: int = 0) -> None:
        interval = row.interval_seconds
        entry = Entry(str(row.id), interval, phase_of(row.id, interval), list(row.regions),
                      row.version, generation)
        self.entries[row.id] = entry
        due = next_due(self.watermark, interval, entry.phase)
        heapq.heappush(self.heap, (due, next(self._numbers), row.id, generation))

    def _pop_due(self, current: int) -> dict:
        due: dict = defaultdict(list)
        heap, entries, watermark = self.heap, self.entries, self.watermark
        while heap and heap[0][0] <= current:
            second, number, monitor_id, generation = heapq.heappop(heap)
            entry = entries.get(monitor_id)
            if entry is None or entry.generation != generation:
                continue      # deleted, disabled or rescheduled since
            if second > watermark:
                check = [entry.key, entry.version]
                for region in entry.regions:
                    due[(region, second)].append(check)
            following = next_due(max(second, watermark), entry.interval, entry.phase)
            heapq.heappush(heap, (following, number, monitor_id, generation))
        return due
