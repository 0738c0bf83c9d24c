"""Hourly and daily rollups of the raw results, and the retention of all of them.

A rollup row is recomputed whole from the raw results of its hour (never incremented), with
an upsert: rebuilding an hour again writes the same rows, a late result changes its row, and
two rebuilds at once cannot collide. A row whose raw results have all been purged is left as
it is, so rebuilding an old hour never erases its figures.

Each monitor's hour is one row: its figures over all regions (with the exact p95, so a
report in hourly buckets merges no histogram for a bucket), each region's in `regions`, and
the hour rendered as a report's bucket. Once no run rebuilds a day's hours again, they are
summed into the day's row (rebuild_day), from which reports take each region's figures.
"""
from __future__ import annotations

import datetime as dt

import peewee

from models import changelog, plans
from models.db import database, is_postgres
from models.errors import NotFound
from models.monitors.tables import Monitor
from models.organisations import Organisation, Team
from models.services import Service
from models.results import REGION_FIGURES, CheckResult, ResultDaily, ResultHourly
from models.statistics import histogram, reading
from models.statistics.intervals import DAY, HOUR, floor, utc
from models.statistics.reading import day_of, naive

ALL_REGIONS = "*"        # while rebuilding: the figures over all regions (no region's name)
ROLLED_THROUGH = "statistics.rolled_through"   # SchedulerState: the end of the last rollup run
DAYS_ROLLED_THROUGH = "statistics.days_rolled_through"     # ... and of the last day summed
PURGE_CHUNK = 50_000
_MONITOR_BATCH = 500
_FIGURES = (*REGION_FIGURES, "regions")
_WRITTEN = (*_FIGURES, "rendered", "rendered_regions")
# The SQL of reading.rendered_hour over one row of figures (f): float8 arithmetic in the same
# order as Python's (so the same doubles), printed shortest-exact (extra_float_digits 1, as
# Python's repr), the uptime in integers as tally.uptime_of computes it
_RENDERED_UPTIME = ("CASE WHEN checks = 0 THEN 'null' WHEN failures = 0 THEN '100.0' ELSE "
                    "(((2000000 * (checks - failures) + checks) / (2 * checks))::float8 "
                    "/ 10000)::text END")
_RENDERED_TIMES = ("CASE WHEN response_count = 0 "
                   "THEN '{{\"avg\":null,\"min\":null,\"max\":null,\"p95\":null}}' "
                   "ELSE format('{{\"avg\":%%s,\"min\":%%s,\"max\":%%s,\"p95\":%%s}}', "
                   "response_sum_us / 1000 / response_count, response_min_us / 1000, "
                   "response_max_us / 1000, coalesce((response_p95_us / 1000)::text, 'null')) "
                   "END")


def rebuild_hour(hour_start: dt.datetime, *, monitor_ids=None) -> int:
    """Recomputes the rollups of the hour starting at `hour_start` from its raw results, for
    every monitor with results then (or only `monitor_ids`); answers the rows written.
    Idempotent, and safe to run concurrently with itself."""
    hour = naive(floor(utc(hour_start), "hour"))
    if is_postgres():
        return _rebuild_in_sql(hour, monitor_ids)
    return _rebuild_here(hour, monitor_ids)


# One pass over the hour's results: grouped by everything the figures and the histogram need,
# then folded per monitor and region, and per monitor over all regions (ALL_REGIONS), and the
# regions' figures folded into the row over all regions as JSON. Joining
# `monitor` lets Postgres probe the results index (monitor_id, due_at, ...) monitor by monitor
# when that beats scanning the hour.
_REBUILD_SQL = f"""
WITH by_region AS (
    SELECT r.monitor_id, r.region, r.in_maintenance, r.ok,
           CASE WHEN r.response_ms IS NOT NULL THEN {histogram.SLOT_SQL} END AS slot,
           count(*) AS n, count(r.response_ms) AS responses,
           sum(r.response_ms::float8) AS total_ms,
           min(r.response_ms) AS low_ms, max(r.response_ms) AS high_ms
    FROM monitor AS m JOIN check_result AS r ON r.monitor_id = m.id
    WHERE r.due_at >= %(hour)s AND r.due_at < %(end)s {{only}}
    GROUP BY 1, 2, 3, 4, 5
), grouped AS (
    SELECT * FROM by_region
    UNION ALL
    SELECT monitor_id, '{ALL_REGIONS}', in_maintenance, ok, slot, sum(n), sum(responses),
           sum(total_ms), min(low_ms), max(high_ms)
    FROM by_region GROUP BY 1, 3, 4, 5
), slots AS (
    SELECT monitor_id, region, slot, sum(responses) AS n,
           slot - lag(slot) OVER (PARTITION BY monitor_id, region ORDER BY slot) - 1 AS gap
    FROM grouped WHERE NOT in_maintenance AND slot IS NOT NULL
    GROUP BY 1, 2, 3
), histograms AS (
    -- the stored form (see histogram.py): first slot, then counts with the gaps as zeros
    SELECT monitor_id, region, '[' || min(slot) || ',' || string_agg(
               repeat('0,', coalesce(gap, 0)::int) || n, ',' ORDER BY slot) || ']' AS histogram
    FROM slots GROUP BY 1, 2
), p95s AS (
    -- exact, so a report in hourly buckets needs no estimate for a region's hour
    SELECT r.monitor_id, coalesce(r.region, '{ALL_REGIONS}') AS region,
           percentile_cont(%(fraction)s) WITHIN GROUP (ORDER BY r.response_ms) AS p95
    FROM monitor AS m JOIN check_result AS r ON r.monitor_id = m.id
    WHERE r.due_at >= %(hour)s AND r.due_at < %(end)s {{only}}
          AND NOT r.in_maintenance AND r.response_ms IS NOT NULL
    GROUP BY GROUPING SETS ((r.monitor_id, r.region), (r.monitor_id))
), figures AS (
    SELECT g.monitor_id, g.region,
           coalesce(sum(n) FILTER (WHERE NOT in_maintenance), 0) AS checks,
           coalesce(sum(n) FILTER (WHERE NOT in_maintenance AND NOT ok), 0) AS failures,
           coalesce(sum(n) FILTER (WHERE in_maintenance), 0) AS maintenance_checks,
           coalesce(sum(responses) FILTER (WHERE NOT in_maintenance), 0) AS response_count,
           round(1000 * coalesce(sum(total_ms) FILTER (WHERE NOT in_maintenance), 0))
               AS response_sum_us,
           round(1000 * min(low_ms) FILTER (WHERE NOT in_maintenance)) AS response_min_us,
           round(1000 * max(high_ms) FILTER (WHERE NOT in_maintenance)) AS response_max_us,
           round(1000 * p.p95) AS response_p95_us,
           coalesce(h.histogram, '[]') AS histogram
    FROM grouped AS g LEFT JOIN histograms AS h USING (monitor_id, region)
         LEFT JOIN p95s AS p USING (monitor_id, region)
    GROUP BY g.monitor_id, g.region, h.histogram, p.p95
), rendered AS (
    -- each region's figures and the hour's times as a report gives them (reading.rendered_hour)
    SELECT monitor_id, region, checks, failures, {_RENDERED_TIMES} AS times,
           format('{{{{"checks":%%s,"failures":%%s,"uptime_percent":%%s,"response_ms":%%s}}}}',
                  checks, failures, {_RENDERED_UPTIME}, {_RENDERED_TIMES}) AS cell
    FROM (SELECT monitor_id, region, checks::bigint, failures::bigint,
                 response_count::bigint, response_sum_us::float8, response_min_us::float8,
                 response_max_us::float8, response_p95_us::float8 FROM figures) AS f
), regions AS (
    SELECT monitor_id, json_object_agg(region, json_build_array(
               {', '.join(REGION_FIGURES[:-1])}, histogram::json) ORDER BY region)::text
               AS regions
    FROM figures WHERE region <> '{ALL_REGIONS}' GROUP BY monitor_id
), rendered_regions AS (
    SELECT monitor_id, string_agg(region, ',' ORDER BY region COLLATE "C") AS names,
           '{{{{' || string_agg(to_json(region)::text || ':' || cell, ','
                                ORDER BY region COLLATE "C") || '}}}}' AS cells
    FROM rendered WHERE region <> '{ALL_REGIONS}' GROUP BY monitor_id
)
INSERT INTO result_hourly (monitor_id, hour, {', '.join(_FIGURES)}, rendered, rendered_regions)
SELECT f.monitor_id, %(hour)s, {', '.join('f.' + name for name in REGION_FIGURES)}, regions,
       format('{{{{"checks":%%s,"failures":%%s,"response_ms":%%s,"regions":%%s}}}}',
              r.checks, r.failures, r.times, n.cells), n.names
FROM figures AS f JOIN regions USING (monitor_id) JOIN rendered_regions AS n USING (monitor_id)
     JOIN rendered AS r ON r.monitor_id = f.monitor_id AND r.region = '{ALL_REGIONS}'
WHERE f.region = '{ALL_REGIONS}'
ON CONFLICT (monitor_id, hour) DO UPDATE SET
    {', '.join(f'{name} = EXCLUDED.{name}' for name in _WRITTEN)}
"""


def _rebuild_in_sql(hour: dt.datetime, monitor_ids) -> int:
    params = {"hour": hour, "end": hour + HOUR, "log_high": histogram.LOG_HIGH,
              "fraction": histogram.FRACTION}
    only = ""
    if monitor_ids is not None:
        only = "AND r.monitor_id = ANY(%(ids)s::uuid[])"
        params["ids"] = [str(monitor_id) for monitor_id in monitor_ids]
    with database.atomic():
        database.execute_sql("SET LOCAL extra_float_digits = 1")   # whatever the server's
        return database.execute_sql(_REBUILD_SQL.format(only=only), params).rowcount


def _rebuild_here(hour: dt.datetime, monitor_ids) -> int:
    """The same in Python (SQLite)."""
    query = (CheckResult.select(CheckResult.monitor, CheckResult.region, CheckResult.ok,
                                CheckResult.in_maintenance, CheckResult.response_ms)
             .where(CheckResult.due_at >= hour, CheckResult.due_at < hour + HOUR))
    if monitor_ids is not None:
        query = query.where(CheckResult.monitor.in_(list(monitor_ids)))
    groups: dict = {}
    for monitor_id, region, ok, in_maintenance, response_ms in query.tuples():
        for group in (groups.setdefault((monitor_id, region), [0, 0, 0, []]),
                      groups.setdefault((monitor_id, ALL_REGIONS), [0, 0, 0, []])):
            if in_maintenance:
                group[2] += 1
                continue
            group[0] += 1
            group[1] += not ok
            if response_ms is not None:
                group[3].append(response_ms)
    rows = {}
    for (monitor_id, region), group in sorted(groups.items(), key=lambda item: item[0][1]):
        figures = _figures(*group)
        if region == ALL_REGIONS:
            rows.setdefault(monitor_id, {"regions": {}}).update(
                monitor=monitor_id, hour=hour, **figures)
        else:
            rows.setdefault(monitor_id, {"regions": {}})["regions"][region] = [
                figures[name] for name in REGION_FIGURES]
    rows = list(rows.values())
    for row in rows:
        row["rendered"], row["rendered_regions"] = reading.rendered_hour(
            [row[name] for name in REGION_FIGURES], row["regions"])
    with database.atomic():
        for start in range(0, len(rows), 500):
            (ResultHourly.insert_many(rows[start:start + 500])
             .on_conflict(conflict_target=[ResultHourly.monitor, ResultHourly.hour],
                          preserve=[getattr(ResultHourly, name) for name in _WRITTEN])
             .execute())
    return len(rows)


def _figures(checks, failures, in_maintenance, values) -> dict:
    values.sort()
    return {"checks": checks, "failures": failures, "maintenance_checks": in_maintenance,
            "response_count": len(values), "response_sum_us": _micros(sum(values)),
            "response_min_us": _micros(min(values, default=None)),
            "response_max_us": _micros(max(values, default=None)),
            "response_p95_us": _micros(histogram.exact(values)),
            "histogram": histogram.of_values(values)}


def _micros(ms: float | None) -> int | None:
    return None if ms is None else round(ms * 1000)


def rollup_due(*, now: dt.datetime, lookback_hours: int = 3) -> int:
    """Rebuilds the last `lookback_hours` completed hours (again each time, folding in late
    results), and any earlier hours no run has rolled up yet: all hours with results on the
    first run, the hours missed while no run happened later. Answers the rows written; safe
    to repeat and to interrupt (a run that fails leaves the next one to start as early)."""
    through = naive(floor(now, "hour"))
    first = through - lookback_hours * HOUR
    marked = changelog.read_value(ROLLED_THROUGH)
    marked = dt.datetime.fromisoformat(marked) if marked else None
    if marked is None or marked < first:
        oldest = _oldest_hour()
        if oldest is not None:
            # from the first hour never rolled up, but not before the oldest result
            first = min(first, oldest if marked is None else max(marked, oldest))
    written, hour = 0, first
    while hour < through:
        written += rebuild_hour(hour)
        hour += HOUR
    changelog.write_value(ROLLED_THROUGH, through.isoformat(), now=now)
    return written + _sum_settled_days(first, through - lookback_hours * HOUR, now=now)


def _sum_settled_days(first_hour: dt.datetime, settled: dt.datetime, *, now) -> int:
    """Sums the days whose hours no run rebuilds again (all before `settled`) once: those
    that settled since the last run, and those holding hours this run rebuilt late (after a
    gap, or on the first run, every day since the oldest rollup). Answers the rows written."""
    marked = changelog.read_value(DAYS_ROLLED_THROUGH)
    if marked is not None:
        day = min(dt.datetime.fromisoformat(marked), day_of(first_hour))
    else:
        oldest = ResultHourly.select(peewee.fn.MIN(ResultHourly.hour)).scalar()
        day = day_of(naive(oldest) if oldest is not None else first_hour)
    written = 0
    while day + DAY <= settled:
        written += rebuild_day(day)
        day += DAY
        # after each day, so an interrupted catch-up goes on from there
        changelog.write_value(DAYS_ROLLED_THROUGH, day.isoformat(), now=now)
    return written


def rebuild_day(day_start: dt.datetime, *, monitor_ids=None) -> int:
    """Sums the hourly rollups of the UTC day starting at `day_start` into its daily rows,
    for every monitor (or only `monitor_ids`) with rollups then; answers the rows written.
    Idempotent, like rebuild_hour, and the same on both databases: a day is summed once,
    in Python, a batch of monitors at a time."""
    day = day_of(day_start)
    if monitor_ids is None:
        monitor_ids = [row[0] for row in Monitor.select(Monitor.id).order_by(Monitor.id).tuples()]
    figures = [getattr(ResultHourly, name) for name in REGION_FIGURES]
    written = 0
    for start in range(0, len(monitor_ids), _MONITOR_BATCH):
        summed: dict = {}
        rows = (ResultHourly.select(ResultHourly.monitor, ResultHourly.regions, *figures)
                .where(ResultHourly.monitor.in_(monitor_ids[start:start + _MONITOR_BATCH]),
                       ResultHourly.hour >= day, ResultHourly.hour < day + DAY).tuples())
        for monitor_id, regions, *overall in rows:
            hours, by_region = summed.setdefault(monitor_id, ([], {}))
            hours.append(overall)
            for region, cell in regions.items():
                by_region.setdefault(region, []).append(cell)
        days = [{"monitor": monitor_id, "day": day, "overall": reading.summed(hours),
                 "regions": {region: reading.summed(cells)
                             for region, cells in sorted(by_region.items())}}
                for monitor_id, (hours, by_region) in summed.items()]
        with database.atomic():
            for first in range(0, len(days), 500):
                (ResultDaily.insert_many(days[first:first + 500])
                 .on_conflict(conflict_target=[ResultDaily.monitor, ResultDaily.day],
                              preserve=[ResultDaily.overall, ResultDaily.regions])
                 .execute())
        written += len(days)
    return written


def _oldest_hour() -> dt.datetime | None:
    """The hour of the oldest raw result (a full scan, on a first run or after a gap only)."""
    oldest = CheckResult.select(peewee.fn.MIN(CheckResult.due_at)).scalar()
    return None if oldest is None else naive(floor(utc(naive(oldest)), "hour"))


def purge_results(*, now: dt.datetime, retention_days: int, chunk: int = PURGE_CHUNK) -> int:
    """Deletes the raw results due before the hour their retention ago began (whole hours,
    so an hour's rollup is never rebuilt from part of it), at most `chunk` rows per statement
    and transaction so no lock is held long. A monitor's results are kept for as long as its
    organisation's plan says (`data_retention_days`), or `retention_days` (the installation's)
    where the plan does not limit it. Answers how many were deleted."""
    deleted = 0
    for days, monitor_ids in _monitors_by_retention(retention_days).items():
        cutoff = naive(floor(now - dt.timedelta(days=days), "hour"))
        deleted += _purge(CheckResult, CheckResult.due_at, cutoff, chunk, monitor_ids)
    return deleted


def _monitors_by_retention(default_days: int) -> dict[int, list]:
    kept: dict[tuple[str, str], int] = {}
    grouped: dict[int, list] = {}
    rows = (Monitor.select(Monitor.id, Organisation.plan, Organisation.plan_version)
            .join(Service).join(Team).join(Organisation).order_by(Monitor.id).tuples())
    for monitor_id, plan, version in rows:
        if (plan, version) not in kept:
            try:
                days = plans.limit_of(plan, version, "data_retention_days")
            except NotFound:             # a plan the catalogue no longer has
                days = None
            kept[(plan, version)] = days or default_days
        grouped.setdefault(kept[(plan, version)], []).append(monitor_id)
    return grouped


def purge_rollups(*, now: dt.datetime, retention_days: int, chunk: int = PURGE_CHUNK) -> int:
    """Deletes the rollups of the hours before the hour `retention_days` ago, in chunks;
    answers how many were deleted."""
    cutoff = naive(floor(now - dt.timedelta(days=retention_days), "hour"))
    monitor_ids = [row[0] for row in Monitor.select(Monitor.id).order_by(Monitor.id).tuples()]
    # a day some of whose hours go goes too: its hours left answer for it
    return (_purge(ResultHourly, ResultHourly.hour, cutoff, chunk, monitor_ids)
            + _purge(ResultDaily, ResultDaily.day, cutoff, chunk, monitor_ids))


def _purge(model, field, cutoff: dt.datetime, chunk: int, monitor_ids: list) -> int:
    """Monitor by monitor (a batch at a time), so each statement walks the index on
    (monitor_id, time) from its oldest entries and stops after `chunk` rows."""
    deleted = 0
    for start in range(0, len(monitor_ids), _MONITOR_BATCH):
        batch = monitor_ids[start:start + _MONITOR_BATCH]
        while True:
            count = _delete_chunk(model, field, batch, cutoff, chunk)
            deleted += count
            if count < chunk:
                break
    return deleted


def _delete_chunk(model, field, monitor_ids, cutoff, chunk) -> int:
    # rows are picked by physical address: neither table needs a surrogate key for it, and
    # Postgres fetches them straight by TID
    address = "ctid" if is_postgres() else "rowid"
    picked = (model.select(peewee.SQL(address))
              .where(model.monitor.in_(monitor_ids), field < cutoff).limit(chunk))
    sql, params = picked.sql()
    table = model._meta.table_name
    if is_postgres():
        statement = f'DELETE FROM "{table}" WHERE ctid = ANY(ARRAY({sql}))'
    else:
        statement = f'DELETE FROM "{table}" WHERE rowid IN ({sql})'
    with database.atomic():
        return database.execute_sql(statement, params).rowcount
