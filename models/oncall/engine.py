"""The rotation engine: pure functions that turn layers, restrictions, on-demand overrides and
recurrence entries into shifts for a window. Both schedule APIs compute through it; nothing
here reads a clock, a table or a setting (`now` and windows are passed in).

Conventions, everywhere:
- a shift is half-open, [start_at, end_at), with aware UTC datetimes; shifts of zero length
  are dropped;
- a window [since, until) cuts every shift that crosses it;
- adjacent (touching) shifts of the same contact from the same source are merged;
- all rotation, restriction and recurrence arithmetic is wall-clock time in the layer's (or
  entry's) IANA zone: a daily handoff at 09:00 stays at 09:00 across DST. A wall time that
  does not exist (the hour skipped in spring) is read as PEP 495 reads it with fold=0, the
  offset before the change: 02:30 in Europe/Berlin on the spring day is 01:30 UTC, i.e.
  03:30 CEST. A wall time that exists twice (autumn) is its first occurrence (fold=0).
  Should that make a boundary fall before the previous one (turns shorter than the gap),
  the boundary is held at the previous one, so turns never overlap or run backwards.
  Wall times become instants through `wallclock`, which reads them exactly so, from a table
  of each zone's offset changes.
"""
from __future__ import annotations

import bisect
import calendar
import dataclasses
import datetime as dt
import heapq
from typing import Any, Hashable, Iterable, Literal, Sequence

from models.oncall import wallclock

ROTATIONS = ("daily", "weekly", "custom")
RESTRICTIONS = ("daily", "weekly")


@dataclasses.dataclass(frozen=True, slots=True)
class Shift:
    """Someone on call over [start_at, end_at). `index` is the index of the layer that
    supplies it (None for an on-demand shift or a recurrence entry); `override` the id of
    the on-demand shift that supplies it (final timeline) or overrides it (a layer's list)."""
    contact: Hashable
    start_at: dt.datetime
    end_at: dt.datetime
    index: int | None = None
    override: Any = None


@dataclasses.dataclass(frozen=True, slots=True)
class Rotation:
    """`daily` (turns of one day), `weekly` (seven days) or `custom` (`seconds` long, > 0)."""
    type: Literal["daily", "weekly", "custom"]
    seconds: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Range:
    """PagerDuty's restriction range: from `start_time_of_day` (wall clock) for
    `duration_seconds`; weekly ranges also start on `start_day_of_week` (1 = Monday ... 7 =
    Sunday, ISO and PagerDuty)."""
    start_time_of_day: dt.time
    duration_seconds: int
    start_day_of_week: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Restrictions:
    """When a layer applies: `daily` ranges repeat every day, `weekly` ranges every week.
    Outside every range the layer leaves a hole (a lower layer may fill it); its rotation
    goes on turning meanwhile."""
    type: Literal["daily", "weekly"]
    ranges: tuple[Range, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class Layer:
    """Contacts taking turns in list order from `start_at`: turn k belongs to
    contacts[k % len(contacts)]. Nothing before `start_at`. Higher `index` wins an overlap."""
    start_at: dt.datetime
    rotation: Rotation
    contacts: tuple[Hashable, ...]
    index: int
    zone: str = "UTC"
    restrictions: Restrictions | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class OnDemand:
    """An override: `contact` on call over [start_at, end_at), beating every layer."""
    id: Any
    contact: Hashable
    start_at: dt.datetime
    end_at: dt.datetime


@dataclasses.dataclass(frozen=True, slots=True)
class Recurrence:
    """A team schedule entry: `contact` on call from `start_time` to `end_time` (wall clock
    in `zone`; an end at or before the start runs past midnight into the next day; an end of
    23:59:59 means midnight, as the seeds write "all day") on each day inside
    [start_at, end_at) whose month is in `months` (1-12), whose week of the month is in
    `weeks` (1-5: days 1-7 are week 1, 8-14 week 2 ...; -1: the last seven days of the
    month) and whose weekday is in `week_days` (0 = Sunday ... 6 = Saturday). None means
    every month, week or day. A shift belongs to the day it starts on."""
    contact: Hashable
    start_at: dt.datetime
    end_at: dt.datetime
    start_time: dt.time
    end_time: dt.time
    zone: str = "UTC"
    months: frozenset[int] | None = None
    weeks: frozenset[int] | None = None
    week_days: frozenset[int] | None = None


def layer_shifts(layer: Layer, since: dt.datetime, until: dt.datetime) -> list[Shift]:
    """The layer's turns inside its restrictions, cut to the window, merged, in order;
    each with `index` = layer.index."""
    since, until = _window(since, until)
    index = layer.index
    return [Shift(contact, start, end, index)
            for contact, start, end in _layer_spans(layer, since, until)]


def tier_timeline(layers: Sequence[Layer], on_demand: Sequence[OnDemand],
                  since: dt.datetime, until: dt.datetime) -> list[Shift]:
    """The final timeline of a tier: at each instant the on-demand shift if any (`index`
    None, `override` its id), else the layer with the highest index that has a shift then.
    Instants nobody covers are absent (see `gaps`). Should on-demand shifts overlap, the one
    listed later wins; so does the later of two layers with the same index."""
    since, until = _window(since, until)
    spans = [_layer_spans(layer, since, until) for layer in layers]
    return _final(layers, spans, _in_utc(on_demand), since, until)


@dataclasses.dataclass(frozen=True, slots=True)
class Computed:
    final: list[Shift]                 # tier_timeline
    layers: list[list[Shift]]          # per layer, in the order given: its shifts, split where
                                       # an on-demand shift overrides part (`override` its id)
    on_demand: list[Shift]             # the on-demand shifts inside the window (`override` id)


def compute_tier(layers: Sequence[Layer], on_demand: Sequence[OnDemand],
                 since: dt.datetime, until: dt.datetime) -> Computed:
    """Everything compute_tier (138) answers, from one pass.

    `final` and `on_demand` are cut to the window on both sides. A layer's list is cut at
    the window's end only, as the OCS API has always answered it: a shift that crosses the
    window's start keeps its true start, the start of that contact's unbroken run on the
    layer (which may be the layer's start). The run is found from the turn holding `since`,
    going back over turns of the same contact (at most one round of the contacts; a layer
    whose contacts are all one person reaches back to its start) and over touching
    restriction windows (looked at a week, then ever longer spans, back to the run's start).
    The lists are split where the tier's on-demand shifts override them, each piece carrying
    `override` (the on-demand id or None); pieces that end before the window are left out."""
    since, until = _window(since, until)
    on_demand = _in_utc(on_demand)
    spans = [_layer_spans(layer, since, until) for layer in layers]
    final = _final(layers, spans, on_demand, since, until)
    reached = [_reach_back(layer, found, since) for layer, found in zip(layers, spans)]
    earliest = min((found[0][1] for found in reached if found), default=since)
    overrides = _sweep([(max(o.start_at, earliest), min(o.end_at, until), rank,
                         (o.contact, None, o.id)) for rank, o in enumerate(on_demand)])
    own = sorted((Shift(o.contact, max(o.start_at, since), min(o.end_at, until), None, o.id)
                  for o in on_demand if o.start_at < until and o.end_at > since),
                 key=lambda shift: (shift.start_at, _contact_key(shift.contact)))
    lists = [_split(found, layer.index, overrides, since) for layer, found in zip(layers, reached)]
    return Computed(final, lists, [shift for shift in own if shift.start_at < shift.end_at])


def on_call_at(layers: Sequence[Layer], on_demand: Sequence[OnDemand],
               at: dt.datetime) -> Hashable | None:
    """Who the tier has on call at `at` (None: nobody)."""
    found = tier_timeline(layers, on_demand, at, at + TICK)
    return found[0].contact if found else None


def recurrence_shifts(entries: Iterable[Recurrence], since: dt.datetime,
                      until: dt.datetime) -> list[Shift]:
    """The shifts of team schedule entries, cut to the window; a contact's touching or
    overlapping shifts merged; ordered by start then contact. Several contacts may be on
    call at once (a team schedule has no precedence). The days of an entry are the local
    days from the one holding `start_at` to the one holding the last instant before
    `end_at`; their shifts are clipped to [start_at, end_at)."""
    since, until = _window(since, until)
    found = []
    for entry in entries:
        low = max(since, entry.start_at.astimezone(UTC))
        high = min(until, entry.end_at.astimezone(UTC))
        if low >= high:
            continue
        clock = wallclock.clock(entry.zone)
        day = max(clock.wall(entry.start_at).date(), clock.wall(low).date() - 2 * DAY)
        last = min(clock.wall(entry.end_at - TICK).date(), clock.wall(high).date())
        while day <= last:
            if _recurs_on(entry, day):
                start, end = _entry_span(entry, day, clock)
                start, end = max(start, low), min(end, high)
                if start < end:
                    found.append(Shift(entry.contact, start, end))
            day += DAY
    return sorted(merge(found), key=lambda shift: (shift.start_at, _contact_key(shift.contact)))


def gaps(shifts: Sequence[Shift], since: dt.datetime,
         until: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of the window no shift covers, in order."""
    since, until = _window(since, until)
    found, reached = [], since
    for start, end in _union((s.start_at, s.end_at) for s in shifts):
        if end <= since or start >= until:
            continue
        if start > reached:
            found.append((reached, start))
        reached = max(reached, end)
    if reached < until:
        found.append((reached, until))
    return found


def merge(shifts: Iterable[Shift]) -> list[Shift]:
    """Shifts sorted by start; touching or overlapping ones of the same (contact, index,
    override) joined. Shifts of zero length are dropped."""
    merged: list[Shift] = []
    last: dict[tuple, int] = {}          # key -> position in `merged` of its latest shift
    for shift in sorted(shifts, key=lambda s: s.start_at):
        if shift.end_at <= shift.start_at:
            continue
        key = (shift.contact, shift.index, shift.override)
        at = last.get(key)
        if at is not None and merged[at].end_at >= shift.start_at:
            if shift.end_at > merged[at].end_at:
                merged[at] = dataclasses.replace(merged[at], end_at=shift.end_at)
        else:
            last[key] = len(merged)
            merged.append(shift)
    return merged


@dataclasses.dataclass(frozen=True, slots=True)
class ContactStats:
    contact: Hashable
    shifts: int                        # shifts (after merging) that overlap the window
    hours: float                       # hours on call inside the window
    night_hours: float                 # of those, 22:00-07:00 wall clock in the zone
    weekend_hours: float               # of those, Saturday and Sunday wall clock in the zone


def contact_stats(shifts: Sequence[Shift], zone_of: dict, since: dt.datetime,
                  until: dt.datetime) -> list[ContactStats]:
    """Per contact over the window; `zone_of` maps a shift's `index` to the IANA zone its
    night and weekend hours are counted in (missing: UTC; on-demand shifts: the zone of
    index None, else UTC). Ordered by contact (integers by value, anything else by its
    text). Shifts are merged as `merge` does, by (contact, index, override), before they
    are counted. Durations are summed exactly and turned into hours once."""
    since, until = _window(since, until)
    calendars: dict[str, tuple[_Measure, _Measure]] = {}
    totals: dict[Hashable, list] = {}
    # Shifts off the window are left out before merging: those that join a run overlapping
    # the window lie between two of its shifts, so they overlap it too.
    for shift in merge(s for s in shifts if s.end_at > since and s.start_at < until):
        start, end = max(shift.start_at, since), min(shift.end_at, until)
        zone = zone_of.get(shift.index, "UTC")
        if zone not in calendars:
            calendars[zone] = _calendars(wallclock.clock(zone), since, until)
        night, weekend = calendars[zone]
        total = totals.setdefault(shift.contact, [0, ZERO, ZERO, ZERO])
        total[0] += 1
        total[1] += end - start
        total[2] += night.within(start, end)
        total[3] += weekend.within(start, end)
    return [ContactStats(contact, count, hours / HOUR, night / HOUR, weekend / HOUR)
            for contact, (count, hours, night, weekend)
            in sorted(totals.items(), key=lambda item: _contact_key(item[0]))]


# Helpers. Inside, a layer's shifts travel as (contact, start, end) spans, and the pieces of
# a timeline as (start, end, rank, key) items, key = (contact, index, override): tuples are
# cheaper than Shifts, which are made once, for the answer.

UTC = dt.timezone.utc
ZERO = dt.timedelta(0)
TICK = dt.timedelta(microseconds=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)
# The largest jump of a zone's UTC offset that tzdata knows (Samoa skipped 30 December 2011,
# Alaska's LMT moved a day in 1867): a turn boundary is never held back by a boundary further
# behind than this, nor is a local date further than this off the UTC one.
MAX_JUMP = dt.timedelta(hours=26)
LONGEST_LOOK_BACK = dt.timedelta(days=8)     # a restriction pattern with a hole shows it
NIGHT_BEGINS, NIGHT_ENDS = dt.timedelta(hours=22), dt.timedelta(days=1, hours=7)
LAST_SECOND = dt.time(23, 59, 59)


def _window(since: dt.datetime, until: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("the window's instants must be aware")
    return since.astimezone(UTC), until.astimezone(UTC)


def _in_utc(on_demand: Sequence[OnDemand]) -> list[OnDemand]:
    return [o if o.start_at.tzinfo is UTC and o.end_at.tzinfo is UTC else
            OnDemand(o.id, o.contact, o.start_at.astimezone(UTC), o.end_at.astimezone(UTC))
            for o in on_demand]


def _midnight(day: dt.date) -> dt.datetime:
    """The wall (see wallclock) of a local day's start."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def _since_midnight(time_of_day: dt.time) -> dt.timedelta:
    return dt.timedelta(hours=time_of_day.hour, minutes=time_of_day.minute,
                        seconds=time_of_day.second, microseconds=time_of_day.microsecond)


def _contact_key(contact: Hashable) -> tuple:
    """Sorts integer ids by value and anything else (UUIDs, names) by its text."""
    if isinstance(contact, int):
        return (0, contact, "")
    return (1, 0, str(contact))


def _period(rotation: Rotation) -> dt.timedelta:
    if rotation.type == "daily":
        return DAY
    if rotation.type == "weekly":
        return WEEK
    if rotation.type == "custom" and rotation.seconds and rotation.seconds > 0:
        return dt.timedelta(seconds=rotation.seconds)
    raise ValueError(f"not a rotation: {rotation!r}")


class _Turns:
    """A layer's turn boundaries: boundary k is local(start_at) + k * period on the wall
    clock, as an instant, held at the previous boundary should it fall before it; boundary
    0 is start_at itself. Only a boundary less than MAX_JUMP of wall clock behind can hold
    one back, so any boundary is found from the `margin` turns before it."""

    def __init__(self, layer: Layer):
        self.clock = wallclock.clock(layer.zone)
        self.start_at = layer.start_at.astimezone(UTC)
        self.origin = self.clock.wall(self.start_at)
        self.period = _period(layer.rotation)
        self.margin = -(-MAX_JUMP // self.period) + 1

    def _raw(self, k: int) -> dt.datetime:
        return self.start_at if k == 0 else self.clock.instant(self.origin + k * self.period)

    def boundary(self, k: int) -> dt.datetime:
        return max(self._raw(j) for j in range(max(0, k - self.margin), k + 1))

    def spans(self, since: dt.datetime, until: dt.datetime) -> list[tuple]:
        """(k, start, end) of the turns of positive length that overlap [since, until)."""
        near = (self.clock.wall(since) - self.origin) // self.period
        k = max(0, near - 2 * self.margin)       # the turn holding `since` is after this one
        start, period = self.boundary(k), self.period
        wall = self.origin + (k + 1) * period
        walk = self.clock.walk(wall, self.clock.wall(until) + period + MAX_JUMP)
        found = []
        while start < until:
            end = walk.instant(wall)
            if end > start:
                if end > since:
                    found.append((k, start, end))
                start = end
            k += 1
            wall += period
        return found


def _layer_spans(layer: Layer, since: dt.datetime, until: dt.datetime) -> list[tuple]:
    """layer_shifts as (contact, start, end)."""
    if not layer.contacts or since >= until:
        return []
    turns = _Turns(layer)
    contacts, count = layer.contacts, len(layer.contacts)
    spans = [(contacts[k % count], start if start > since else since,
              end if end < until else until) for k, start, end in turns.spans(since, until)]
    if layer.restrictions is not None:
        windows = _restriction_windows(layer.restrictions, turns.clock, since, until)
        spans = _intersect(spans, windows)
    return _runs(spans)


def _restriction_windows(restrictions: Restrictions, clock: wallclock.Clock,
                         since: dt.datetime, until: dt.datetime) -> list[tuple]:
    """The union of the restriction ranges that overlap [since, until), uncut, in order."""
    low, high = clock.wall(since).date(), clock.wall(until).date() + DAY
    found = []
    for rng in restrictions.ranges:
        duration = dt.timedelta(seconds=rng.duration_seconds)
        if duration <= ZERO:
            continue
        back = dt.timedelta(days=duration.days + 2)      # ranges that began before `since`
        if restrictions.type == "daily":
            day, step = low - back, DAY
        else:
            day, step = low - back - WEEK, WEEK
            day += dt.timedelta(days=(rng.start_day_of_week - day.isoweekday()) % 7)
        begins = _midnight(day) + _since_midnight(rng.start_time_of_day)
        last = _midnight(high) + DAY
        starts = clock.walk(begins, last)
        ends = clock.walk(begins + duration, last + duration)
        while begins <= last:
            start, end = starts.instant(begins), ends.instant(begins + duration)
            if start < end and end > since and start < until:
                found.append((start, end))
            begins += step
    return _union(found)


def _union(spans: Iterable[tuple[dt.datetime, dt.datetime]]):
    """Spans joined where they touch or overlap, in order."""
    joined: list[list[dt.datetime]] = []
    for start, end in sorted(spans):
        if start >= end:
            continue
        if joined and start <= joined[-1][1]:
            if end > joined[-1][1]:
                joined[-1][1] = end
        else:
            joined.append([start, end])
    return [(start, end) for start, end in joined]


def _intersect(spans, windows):
    """(contact, start, end) spans (in order, disjoint) cut to the windows (likewise)."""
    found, first, count = [], 0, len(windows)
    for contact, start, end in spans:
        while first < count and windows[first][1] <= start:
            first += 1
        at = first
        while at < count and windows[at][0] < end:
            low, high = windows[at]
            low, high = low if low > start else start, high if high < end else end
            if low < high:
                found.append((contact, low, high))
            at += 1
    return found


def _runs(spans) -> list[tuple]:
    """(contact, start, end) spans in order, a contact's touching ones joined."""
    joined: list[tuple] = []
    for span in spans:
        if joined:
            contact, start, end = joined[-1]
            if end == span[1] and contact == span[0]:
                joined[-1] = (contact, start, span[2])
                continue
        joined.append(span)
    return joined


def _final(layers, spans, on_demand, since, until) -> list[Shift]:
    """The sweep of `tier_timeline`: on-demand shifts outrank every layer, layers rank by
    (index, position)."""
    order = sorted(range(len(layers)), key=lambda at: (layers[at].index, at))
    items = []
    for rank, at in enumerate(order):
        index = layers[at].index
        items.extend((start, end, rank, (contact, index, None))
                     for contact, start, end in spans[at])
    base = len(layers)
    items.extend((max(o.start_at, since), min(o.end_at, until), base + rank,
                  (o.contact, None, o.id)) for rank, o in enumerate(on_demand))
    return [Shift(contact, start, end, index, override)
            for start, end, (contact, index, override) in _sweep(items)]


def _sweep(items) -> list[tuple]:
    """At each instant the item (start, end, rank, key) of the highest rank covering it, as
    (start, end, key) pieces in order, touching pieces of one key joined. One pass over the
    items by start with a heap of those begun: the owner can change only where an item
    begins or where the owner's item ends (items that ended are dropped when they come to
    the top)."""
    items = sorted((item for item in items if item[0] < item[1]), key=lambda item: item[0])
    heap: list = []
    pieces: list[list] = []
    push, pop = heapq.heappush, heapq.heappop
    following, count = 0, len(items)
    at = items[0][0] if items else None
    while following < count or heap:
        while following < count and items[following][0] <= at:
            start, end, rank, key = items[following]
            push(heap, (-rank, end, following, key))
            following += 1
        while heap and heap[0][1] <= at:
            pop(heap)
        if not heap:
            if following < count:
                at = items[following][0]
            continue
        _, then, _, key = heap[0]
        if following < count and items[following][0] < then:
            then = items[following][0]
        if pieces and pieces[-1][1] == at and pieces[-1][2] == key:
            pieces[-1][1] = then
        else:
            pieces.append([at, then, key])
        at = then
    return [(start, end, key) for start, end, key in pieces]


def _reach_back(layer: Layer, spans: list[tuple], since: dt.datetime) -> list[tuple]:
    """`spans` with the first one, should it hold `since`, back at its run's start."""
    if not spans or spans[0][1] != since or since <= layer.start_at:
        return spans
    contact, _, end = spans[0]
    return [(contact, _run_start(layer, since), end)] + spans[1:]


def _run_start(layer: Layer, at: dt.datetime) -> dt.datetime:
    """Where the layer's unbroken shift holding `at` begins (see compute_tier)."""
    turns = _Turns(layer)
    contacts, count = layer.contacts, len(layer.contacts)
    k, begins, _ = turns.spans(at, at + TICK)[0]
    contact = contacts[k % count]
    if all(other == contact for other in contacts):
        begins = turns.start_at
    else:
        while k > 0:
            previous = turns.boundary(k - 1)
            if previous < begins and contacts[(k - 1) % count] != contact:
                break
            k, begins = k - 1, previous
    if layer.restrictions is None:
        return begins
    span = LONGEST_LOOK_BACK
    while True:
        low = max(begins, at - span)
        windows = _restriction_windows(layer.restrictions, turns.clock, low, at + TICK)
        holding = [start for start, end in windows if start <= at < end]
        if not holding:
            return at
        if holding[0] > low or low == begins:
            return max(holding[0], begins)
        span *= 2


def _split(spans: list[tuple], index, overrides: list[tuple],
           since: dt.datetime) -> list[Shift]:
    """A layer's spans (in order) as shifts, cut where the (disjoint, ordered) on-demand
    pieces (start, end, key) begin and end, the pieces under one carrying its id; pieces
    ending before `since` left out."""
    found, first, count = [], 0, len(overrides)
    for contact, start, end in spans:
        while first < count and overrides[first][1] <= start:
            first += 1
        at = first
        while start < end:
            if at == count or overrides[at][0] >= end:         # most spans: nothing over them
                found.append(Shift(contact, start, end, index))
                break
            over_start, over_end, key = overrides[at]
            if over_start > start:
                found.append(Shift(contact, start, over_start, index))
                start = over_start
            stop = over_end if over_end < end else end
            found.append(Shift(contact, start, stop, index, key[2]))
            start, at = stop, at + 1
    return [shift for shift in found if shift.end_at > since]


def _recurs_on(entry: Recurrence, day: dt.date) -> bool:
    if entry.months is not None and day.month not in entry.months:
        return False
    if entry.week_days is not None and day.isoweekday() % 7 not in entry.week_days:
        return False
    if entry.weeks is not None:
        last = calendar.monthrange(day.year, day.month)[1] - 7 < day.day
        week = (day.day - 1) // 7 + 1
        return week in entry.weeks or (last and -1 in entry.weeks)
    return True


def _entry_span(entry: Recurrence, day: dt.date, clock: wallclock.Clock):
    begins = _midnight(day) + _since_midnight(entry.start_time)
    if entry.end_time == LAST_SECOND:
        ends = _midnight(day) + DAY
    elif entry.end_time <= entry.start_time:
        ends = _midnight(day) + DAY + _since_midnight(entry.end_time)
    else:
        ends = _midnight(day) + _since_midnight(entry.end_time)
    return clock.instant(begins), clock.instant(ends)


class _Measure:
    """How much of a span falls inside a fixed set of disjoint ordered spans: a prefix sum
    of their lengths, found by bisection."""

    def __init__(self, spans):
        self.starts = [start for start, _ in spans]
        self.ends = [end for _, end in spans]
        self.before = [ZERO]
        for start, end in spans:
            self.before.append(self.before[-1] + (end - start))

    def _until(self, at: dt.datetime) -> dt.timedelta:
        k = bisect.bisect_right(self.starts, at) - 1
        if k < 0:
            return ZERO
        return self.before[k] + min(at, self.ends[k]) - self.starts[k]

    def within(self, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
        return self._until(end) - self._until(start)


def _calendars(clock: wallclock.Clock, since: dt.datetime, until: dt.datetime):
    """The nights (22:00-07:00) and weekends (Saturday 00:00 to Monday 00:00) of the zone's
    wall clock around the window, as measures."""
    day = clock.wall(since).date() - 2 * DAY
    last = clock.wall(until).date() + DAY
    nights, weekends = [], []
    while day <= last:
        midnight = _midnight(day)
        nights.append((clock.instant(midnight + NIGHT_BEGINS),
                       clock.instant(midnight + NIGHT_ENDS)))
        if day.isoweekday() == 6:
            weekends.append((clock.instant(midnight), clock.instant(midnight + 2 * DAY)))
        day += DAY
    return _Measure(_union(nights)), _Measure(_union(weekends))
