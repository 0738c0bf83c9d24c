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
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Hashable, Iterable, Literal, Sequence

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
    raise NotImplementedError


def tier_timeline(layers: Sequence[Layer], on_demand: Sequence[OnDemand],
                  since: dt.datetime, until: dt.datetime) -> list[Shift]:
    """The final timeline of a tier: at each instant the on-demand shift if any (`index`
    None, `override` its id), else the layer with the highest index that has a shift then.
    Instants nobody covers are absent (see `gaps`)."""
    raise NotImplementedError


@dataclasses.dataclass(frozen=True, slots=True)
class Computed:
    final: list[Shift]                 # tier_timeline
    layers: list[list[Shift]]          # per layer, in the order given: its shifts, split where
                                       # an on-demand shift overrides part (`override` its id)
    on_demand: list[Shift]             # the on-demand shifts inside the window (`override` id)


def compute_tier(layers: Sequence[Layer], on_demand: Sequence[OnDemand],
                 since: dt.datetime, until: dt.datetime) -> Computed:
    """Everything compute_tier (138) answers, from one pass."""
    raise NotImplementedError


def on_call_at(layers: Sequence[Layer], on_demand: Sequence[OnDemand],
               at: dt.datetime) -> Hashable | None:
    """Who the tier has on call at `at` (None: nobody)."""
    raise NotImplementedError


def recurrence_shifts(entries: Iterable[Recurrence], since: dt.datetime,
                      until: dt.datetime) -> list[Shift]:
    """The shifts of team schedule entries, cut to the window; a contact's touching or
    overlapping shifts merged; ordered by start then contact. Several contacts may be on
    call at once (a team schedule has no precedence)."""
    raise NotImplementedError


def gaps(shifts: Sequence[Shift], since: dt.datetime,
         until: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """The parts of the window no shift covers, in order."""
    raise NotImplementedError


def merge(shifts: Iterable[Shift]) -> list[Shift]:
    """Shifts sorted by start; touching or overlapping ones of the same (contact, index,
    override) joined."""
    raise NotImplementedError


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
    index None, else UTC). Ordered by contact."""
    raise NotImplementedError
