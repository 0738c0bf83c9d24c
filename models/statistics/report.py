"""The performance report of an uptime monitor ("View Uptime Monitor Performance Report")."""
from __future__ import annotations

import datetime as dt

import orjson

from models.clock import isoformat
from models.errors import Invalid
from models.statistics import reading
from models.statistics.intervals import ceil_hour, default_interval, edges, floor, utc
from models.statistics.tally import Levels, Tally
from models.statistics.timeline import Timeline

_NOTHING = Tally()


def performance_report(monitor, *, start: dt.datetime, end: dt.datetime,
                       interval: str | None = None, limit: int | None = None,
                       now: dt.datetime, use_rollups: bool = True) -> dict:
    """Checks, failures, uptime and response times of `monitor` over [start, end), in buckets
    of `interval` (by default the finest that suits the range) aligned to UTC boundaries,
    overall and per region. With `limit`, only the newest `limit` buckets are kept, and the
    report (summary, regions, start_date) covers just those.

    Per region, uptime counts checks: the share of checks outside maintenance that passed.
    Overall, it counts time: the share of the watched time (since the monitor was created,
    until `now`, outside maintenance windows) that its overall status was not down.
    Response times leave out checks in maintenance; their p95 is exact where a figure comes
    from raw results only and read from histograms where it includes rolled-up hours.

    Completed hours come from the hourly rollups, the rest from raw results;
    `use_rollups=False` reads raw results only (the same figures, p95s exact, slower).
    In hourly buckets, a rolled-up hour's bucket is the JSON text its rollup keeps, as an
    orjson.Fragment: the report is for orjson.dumps (orjson.loads of that gives it whole).
    Raises Invalid (naming the field) for a bad interval, range or limit."""
    start, end, now = utc(start), utc(end), utc(now)
    interval = interval or default_interval(start, end)
    bounds = edges(start, end, interval)
    if limit is not None:
        if limit < 1:
            raise Invalid("limit must be a positive number.", fields={"limit": "not positive"})
        bounds = bounds[-(limit + 1):]
    levels = _levels(monitor, bounds, interval, now=now, use_rollups=use_rollups)
    timeline = Timeline.of(monitor, bounds[0], bounds[-1], now=now)
    return _shaped(monitor, bounds, interval, levels, timeline)


def _levels(monitor, bounds, interval, *, now, use_rollups) -> Levels:
    """The tallies of [bounds[0], bounds[-1]): rollups for the completed hours rolled up
    already, raw results around them."""
    buckets = reading.Buckets(bounds, interval)
    start, end = reading.naive(bounds[0]), reading.naive(bounds[-1])
    # a minute bucket is part of an hour: rollups cannot answer it
    hours = _whole_hours(bounds[0], bounds[-1], now) if (
        use_rollups and interval != "minute") else None
    levels, rolled_until = (reading.rolled_levels(monitor.id, buckets, *hours) if hours
                            else (None, None))
    if rolled_until is None:
        return reading.raw_levels(monitor.id, buckets, [(start, end)], with_histograms=False)
    raw = [(low, high) for low, high in ((start, hours[0]), (rolled_until, end)) if low < high]
    if raw:
        levels.add(reading.raw_levels(monitor.id, buckets, raw, with_histograms=True))
    return levels


def _whole_hours(start: dt.datetime, end: dt.datetime, now: dt.datetime):
    """The completed whole hours of [start, end) (naive UTC), or None: where rollups may be."""
    first = reading.naive(ceil_hour(start))
    last = reading.naive(min(floor(end, "hour"), floor(now, "hour")))
    return (first, last) if first < last else None


def _shaped(monitor, bounds, interval, levels: Levels, timeline: Timeline) -> dict:
    regions = sorted(set(monitor.regions or ()) | set(levels.regions))
    stamps = _stamps(bounds, interval)
    seconds = [bound.timestamp() for bound in bounds]
    watched = timeline.watched_seconds(seconds[0], seconds[-1])
    down = timeline.down_seconds(seconds[0], seconds[-1])
    overall = levels.overall
    return {
        "monitor_id": str(monitor.id), "start_date": stamps[0], "end_date": stamps[-1],
        "interval": interval,
        "summary": {"uptime_percent": _uptime(watched, down), "checks": overall.checks,
                    "failures": overall.failures, "downtime_seconds": round(down, 3),
                    "response_ms": overall.response_ms()},
        "regions": {region: levels.regions.get(region, _NOTHING).region_out()
                    for region in regions},
        "buckets": _buckets_out(stamps, timeline.per_bucket(seconds), regions, levels),
    }


_HOURS = [f"T{hour:02d}:00:00Z" for hour in range(24)]


def _stamps(bounds: list[dt.datetime], interval: str) -> list[str]:
    """The bounds as isoformat() writes them; those inside hourly buckets (whole UTC hours, a
    month has 720) from their day's date and a ready hour, at a fraction of the cost."""
    if interval != "hour" or len(bounds) < 3:
        return [isoformat(bound) for bound in bounds]
    stamps, day = [isoformat(bounds[0])], None
    for bound in bounds[1:-1]:
        hour = bound.hour
        if not hour or day is None:
            day = bound.date().isoformat()
        stamps.append(day + _HOURS[hour])
    stamps.append(isoformat(bounds[-1]))
    return stamps


def _buckets_out(stamps, seconds: tuple[list, list], regions, levels: Levels) -> list:
    """One entry per bucket; the hot part of a long report (a month has 720 hours), so the
    shared shapes are made once and the loop does no more than each bucket needs: a bucket
    rendered already (a rolled-up hour) is spliced into the answer as JSON text with its
    times (an orjson.Fragment), one shaped already only gains its times and the regions it
    lacks."""
    buckets, cells, shaped, rendered = (levels.buckets, levels.cells, levels.shaped,
                                        levels.rendered)
    nothing = _NOTHING.region_out()
    named = ",".join(regions)
    found = []
    for index, (watched, down) in enumerate(zip(*seconds)):
        uptime, downtime = _uptime(watched, down), round(down, 3) if down else down
        text = rendered.get(index)
        if text is not None:
            names, text = text
            if names == named:      # sorted by name as stored, so most often
                found.append(orjson.Fragment(
                    f'{{"start":"{stamps[index]}","end":"{stamps[index + 1]}",'
                    f'"uptime_percent":{_number(uptime)},"downtime_seconds":{downtime},'
                    f'{text[1:]}'))
                continue
            checks, failures, times, by_region = _parsed_bucket(text)
        else:
            checks, failures, times, by_region = shaped.get(index) or (None,) * 4
        if checks is not None:
            if list(by_region) != regions:
                by_region = {region: by_region.get(region) or dict(nothing)
                             for region in regions}
        else:
            tally = buckets.get(index, _NOTHING)
            checks, failures, times = tally.checks, tally.failures, tally.response_ms()
            by_region = {region: cell.region_out() if cell else dict(nothing)
                         for region, cell in ((region, cells.get((index, region)))
                                              for region in regions)}
        found.append({
            "start": stamps[index], "end": stamps[index + 1],
            "uptime_percent": uptime, "checks": checks, "failures": failures,
            "downtime_seconds": downtime, "response_ms": times, "regions": by_region})
    return found


def _parsed_bucket(text: str) -> tuple:
    bucket = orjson.loads(text)
    return bucket["checks"], bucket["failures"], bucket["response_ms"], bucket["regions"]


def _number(value: float | None) -> str:
    return "null" if value is None else repr(value)


def _uptime(watched: float, down: float) -> float | None:
    # round() is costly and most buckets have no downtime: exactly 100.0 then
    if not down:
        return 100.0 if watched else None
    return round(100 * (1 - down / watched), 4) if watched else None
