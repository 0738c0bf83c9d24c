"""Benchmark: the on-call rotation engine over a year of one busy tier.

Builds a tier from a seeded random draw: 50 contacts; 5 layers of 2-8 contacts each (daily in
UTC unrestricted, weekly in Berlin restricted to a weekly range over the weekend, 8-hour turns
in New York from 02:30 (the skipped hour in spring) restricted to 22:00 for 9 hours, 12-hour
turns in Berlin restricted to weekday office hours, daily in New York restricted to 12:00 for
2 hours); and 300 on-demand shifts over the year, minute-aligned and not overlapping each
other. It times `compute_tier` over the year (--runs times after two untimed runs) and
`contact_stats` of its final timeline over the first 90 days, and reports p50/p95.

The same-run baseline answers the same questions with the plainest loop over every minute of
the window: the on-demand shift covering that minute, else the layer with the highest index
that has someone on call then, found from that minute alone by the rotation and restriction
arithmetic (turn number from the wall-clock difference, restriction windows of the days that
could hold the minute; memoised per turn and per day; the on-demand shifts, which do not
overlap, walked with a pointer as the minutes come in order), written apart from the engine
(it calls nothing of it); the stats are counted from those minutes. The engine's final
timeline expanded to minutes must equal the loop's answers exactly, and the stats must be
equal.

Needs no servers. Run: .venv/bin/python bench/oncall.py [--runs N] [--seed S] [--days D]
(--days shortens the window of the compute run and its minute loop; the default is the full
year). The last line sums it up; its "x faster" is the minute loop's time over compute p95.
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import time
import zoneinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.oncall.engine import (  # noqa: E402
    ContactStats, Layer, OnDemand, Range, Restrictions, Rotation, compute_tier, contact_stats)
from pinghome.runtime import settle_heap  # noqa: E402

UTC = dt.timezone.utc
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)
SINCE = dt.datetime(2025, 1, 1, tzinfo=UTC)
STATS_DAYS = 90


def main() -> None:
    options = parse_options()
    since, until = SINCE, SINCE + dt.timedelta(days=options.days)
    layers, on_demand = tier(random.Random(options.seed), since, until)
    zone_of = {layer.index: layer.zone for layer in layers} | {None: "Europe/Berlin"}
    stats_until = since + dt.timedelta(days=min(STATS_DAYS, options.days))
    settle_heap()                   # as the API process does once started

    began = time.perf_counter()
    compute_tier(layers, on_demand, since, until)
    first_call = (time.perf_counter() - began) * 1000
    compute = timings(lambda: compute_tier(layers, on_demand, since, until), options.runs)
    final = compute_tier(layers, on_demand, since, until).final
    stats = timings(lambda: contact_stats(final, zone_of, since, stats_until), options.runs)
    found_stats = contact_stats(final, zone_of, since, stats_until)

    print(f"... the minute loop over {options.days} days", flush=True)
    began = time.perf_counter()
    answers = minute_answers(layers, on_demand, since, until)
    loop_seconds = time.perf_counter() - began
    began = time.perf_counter()
    loop_stats = minute_stats(answers, zone_of, since, stats_until)
    loop_stats_seconds = time.perf_counter() - began

    expanded = expand(final, since, until)
    same_timeline, same_stats = expanded == answers, found_stats == loop_stats
    report(options, layers, on_demand, final, first_call, compute, stats, loop_seconds,
           loop_stats_seconds, same_timeline, same_stats, answers, expanded)


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30, help="timed runs of each engine call")
    parser.add_argument("--seed", type=int, default=20250101)
    parser.add_argument("--days", type=int, default=365, help="the window of compute_tier")
    return parser.parse_args()


def tier(draw: random.Random, since: dt.datetime, until: dt.datetime):
    """The 5 layers and 300 on-demand shifts (minute-aligned, disjoint) of the benchmark."""
    contacts = list(range(1, 51))

    def some(low, high):
        return tuple(draw.sample(contacts, draw.randint(low, high)))

    def local(zone, *parts):
        return dt.datetime(*parts, tzinfo=zoneinfo.ZoneInfo(zone)).astimezone(UTC)

    weekend = Restrictions("weekly", (Range(dt.time(18), 62 * 3600, 5),))    # Fri 18:00-Mon 08:00
    nights = Restrictions("daily", (Range(dt.time(22), 9 * 3600),))
    office = Restrictions("weekly", tuple(Range(dt.time(9), 8 * 3600, day) for day in range(1, 6)))
    lunch = Restrictions("daily", (Range(dt.time(12), 2 * 3600),))
    layers = [
        Layer(dt.datetime(2024, 6, 3, 9, 17, tzinfo=UTC), Rotation("daily"), some(2, 8), 0),
        Layer(local("Europe/Berlin", 2024, 9, 2, 9), Rotation("weekly"), some(2, 8), 1,
              "Europe/Berlin", weekend),
        Layer(local("America/New_York", 2024, 11, 1, 2, 30), Rotation("custom", 8 * 3600),
              some(2, 8), 2, "America/New_York", nights),
        Layer(local("Europe/Berlin", 2024, 12, 2, 8, 45), Rotation("custom", 12 * 3600),
              some(2, 8), 3, "Europe/Berlin", office),
        Layer(local("America/New_York", 2025, 2, 15, 11), Rotation("daily"), some(2, 8), 4,
              "America/New_York", lunch),
    ]
    minutes = int((until - since) / MINUTE)
    starts = sorted(draw.sample(range(-720, minutes), 300))      # a few begin before `since`
    on_demand = []
    for number, (start, following) in enumerate(zip(starts, starts[1:] + [minutes + 720])):
        end = min(start + draw.randint(30, 12 * 60), following)
        on_demand.append(OnDemand(1000 + number, draw.choice(contacts),
                                  since + start * MINUTE, since + end * MINUTE))
    assert all(a.end_at <= b.start_at for a, b in zip(on_demand, on_demand[1:]))
    return layers, on_demand


def timings(call, runs: int) -> list[float]:
    """Milliseconds of `runs` calls, after two untimed ones (the first of a process also
    builds the zones' tables of offset changes: see `first_call`)."""
    for _ in range(2):
        call()
    found = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        found.append((time.perf_counter() - began) * 1000)
    return found


# The baseline: every minute on its own.

class MinuteLayer:
    """Who a layer has on call at one minute, from that minute's wall clock alone. No turn
    here is held back by the one before it: every period of the benchmark is far longer
    than an hour, so a wall-clock step never falls before the previous one."""

    def __init__(self, layer: Layer):
        self.layer, self.zone = layer, zoneinfo.ZoneInfo(layer.zone)
        self.origin = layer.start_at.astimezone(self.zone).replace(tzinfo=None)
        self.period = {"daily": DAY, "weekly": 7 * DAY}.get(layer.rotation.type) or \
            dt.timedelta(seconds=layer.rotation.seconds)
        assert self.period > dt.timedelta(hours=2)
        self.turns: dict[int, dt.datetime] = {}
        self.windows: dict[tuple[int, dt.date], tuple[dt.datetime, dt.datetime]] = {}

    def instant(self, naive: dt.datetime) -> dt.datetime:
        return naive.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def turn_start(self, k: int) -> dt.datetime:
        if k == 0:
            return self.layer.start_at
        if k not in self.turns:
            self.turns[k] = self.instant(self.origin + k * self.period)
        return self.turns[k]

    def contact_at(self, at: dt.datetime):
        if at < self.layer.start_at:
            return None
        local = at.astimezone(self.zone).replace(tzinfo=None)
        if self.layer.restrictions is not None and not self.allowed(at, local.date()):
            return None
        k = max(0, (local - self.origin) // self.period)
        while k > 0 and self.turn_start(k) > at:
            k -= 1
        while self.turn_start(k + 1) <= at:
            k += 1
        return self.layer.contacts[k % len(self.layer.contacts)]

    def allowed(self, at: dt.datetime, today: dt.date) -> bool:
        restrictions = self.layer.restrictions
        for number, rng in enumerate(restrictions.ranges):
            for back in range(rng.duration_seconds // 86400 + 2):
                day = today - back * DAY
                if restrictions.type == "weekly" and day.isoweekday() != rng.start_day_of_week:
                    continue
                if (number, day) not in self.windows:
                    begins = dt.datetime.combine(day, rng.start_time_of_day)
                    self.windows[number, day] = (
                        self.instant(begins),
                        self.instant(begins + dt.timedelta(seconds=rng.duration_seconds)))
                start, end = self.windows[number, day]
                if start <= at < end:
                    return True
        return False


def minute_answers(layers, on_demand, since, until) -> list:
    """(contact, layer index or None, on-demand id or None) or None for every minute."""
    ordered = [MinuteLayer(layer) for layer in sorted(layers, key=lambda lay: -lay.index)]
    overrides = sorted(on_demand, key=lambda shift: shift.start_at)
    answers, next_override = [], 0
    for minute in range(int((until - since) / MINUTE)):
        at = since + minute * MINUTE
        while next_override < len(overrides) and overrides[next_override].end_at <= at:
            next_override += 1
        if next_override < len(overrides) and overrides[next_override].start_at <= at:
            override = overrides[next_override]
            answers.append((override.contact, None, override.id))
            continue
        for layer in ordered:
            contact = layer.contact_at(at)
            if contact is not None:
                answers.append((contact, layer.layer.index, None))
                break
        else:
            answers.append(None)
    return answers


def minute_stats(answers, zone_of, since, until) -> list[ContactStats]:
    """Shifts (runs of one answer), hours, night hours (22:00-07:00) and weekend hours of each
    contact from the minutes of [since, until)."""
    totals: dict = {}
    previous = None
    for minute in range(int((until - since) / MINUTE)):
        answer = answers[minute]
        if answer is not None:
            contact, index, _ = answer
            total = totals.setdefault(contact, [0, 0, 0, 0])
            total[0] += answer != previous
            total[1] += 1
            local = (since + minute * MINUTE).astimezone(zoneinfo.ZoneInfo(
                zone_of.get(index, "UTC")))
            total[2] += local.hour >= 22 or local.hour < 7
            total[3] += local.isoweekday() >= 6
        previous = answer
    return [ContactStats(contact, count, hours / 60, night / 60, weekend / 60)
            for contact, (count, hours, night, weekend) in sorted(totals.items())]


def expand(final, since, until) -> list:
    """The engine's timeline as the loop answers it: one entry per minute."""
    minutes = [None] * int((until - since) / MINUTE)
    for shift in final:
        first, last = (shift.start_at - since) / MINUTE, (shift.end_at - since) / MINUTE
        if first != int(first) or last != int(last):
            return []                                 # not minute-aligned: cannot be equal
        minutes[int(first):int(last)] = [(shift.contact, shift.index, shift.override)] * int(
            last - first)
    return minutes


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(len(ordered) * percent / 100) - 1)]


def report(options, layers, on_demand, final, first_call, compute, stats, loop_seconds,
           loop_stats_seconds, same_timeline, same_stats, answers, expanded) -> None:
    print(f"tier: {len(layers)} layers ({', '.join(describe(layer) for layer in layers)}); "
          f"{len(on_demand)} on-demand shifts; 50 contacts")
    print(f"window: {options.days} days ({len(answers):,} minutes) for compute_tier, "
          f"{min(STATS_DAYS, options.days)} days for contact_stats; final timeline "
          f"{len(final):,} shifts")
    for name, values in (("compute_tier", compute), ("contact_stats", stats)):
        print(f"{name}: p50 {percentile(values, 50):.2f} ms, p95 {percentile(values, 95):.2f} "
              f"ms, mean {sum(values) / len(values):.2f} ms ({len(values)} runs)")
    print(f"compute_tier's first call in the process (it builds the zones' offset tables): "
          f"{first_call:.1f} ms")
    print(f"minute loop: compute {loop_seconds:.1f} s (timed once over the same "
          f"{options.days} days, identity checked over all of them), stats "
          f"{loop_stats_seconds * 1000:.0f} ms")
    compute_ratio = loop_seconds * 1000 / percentile(compute, 95)
    stats_ratio = loop_stats_seconds * 1000 / percentile(stats, 95)
    print(f"minute loop vs engine: compute {compute_ratio:,.0f} x, stats {stats_ratio:,.0f} x "
          "(loop time over engine p95)")
    if not same_timeline:
        wrong = next((n for n, (a, b) in enumerate(zip(answers, expanded)) if a != b), None)
        print(f"timelines differ: first at minute {wrong}"
              f" ({answers[wrong] if wrong is not None else '-'} vs "
              f"{expanded[wrong] if wrong is not None else '-'})")
    if not same_stats:
        print("stats differ")
    identical = "yes" if same_timeline and same_stats else "no"
    print(f"bench oncall: compute p95 {percentile(compute, 95):.1f} ms, stats p95 "
          f"{percentile(stats, 95):.1f} ms, {compute_ratio:,.0f} x faster than the minute loop, "
          f"identical {identical}")


def describe(layer: Layer) -> str:
    turn = layer.rotation.type if layer.rotation.type != "custom" else \
        f"{layer.rotation.seconds // 3600}h"
    limit = layer.restrictions.type if layer.restrictions else "unrestricted"
    return f"{turn} {layer.zone} {limit} x{len(layer.contacts)}"


if __name__ == "__main__":
    main()
