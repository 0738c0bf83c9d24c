"""Reading a report's tallies: completed hours from the hourly rollups, everything else from
the raw results. Instants here are naive UTC datetimes, as the database holds them.

On Postgres the raw part is aggregated in SQL (GROUP BY, percentile_cont), never pulled row by
row; on SQLite, which has no percentile_cont, its rows are summed here.
"""
from __future__ import annotations

import datetime as dt
import json
from bisect import bisect_right

from models.db import database, is_postgres
from models.results import CheckResult, ResultHourly
from models.statistics import histogram
from models.statistics.intervals import HOUR
from models.statistics.tally import Levels, Tally, figures_out


class Buckets:
    """Which bucket of a report an instant (naive UTC) falls in."""

    def __init__(self, edges: list[dt.datetime], interval: str):
        self.interval = interval
        # the edges are aware UTC (intervals.edges): dropping the zone is all naive() would do
        self.starts = [edge.replace(tzinfo=None) for edge in edges[:-1]]
        self._known: dict = {start: index for index, start in enumerate(self.starts)}

    def index(self, instant) -> int:
        found = self._known.get(instant)
        if found is None:
            moment = instant if isinstance(instant, dt.datetime) else naive(instant)
            found = self._known[instant] = max(0, bisect_right(self.starts, moment) - 1)
        return found


def rolled_levels(monitor_id, buckets: Buckets, first: dt.datetime, last: dt.datetime
                  ) -> tuple[Levels, dt.datetime | None]:
    """The tallies of the monitor's rollups of the hours in [first, last), and where the
    rolled-up hours end: the hour after its latest rollup (None without any). Rollups are
    built hour after hour up to the last completed one, so hours after that are not rolled
    up yet, and hours before it are.

    A bucket's own tally comes from the figures over all regions, so an hourly bucket has an
    exact p95; a bucket's histogram is fetched only when buckets span several hours."""
    hourly = buckets.interval == "hour"
    rows = database.execute_sql(rolled_sql(hourly=hourly),
                                (ResultHourly.monitor.db_value(monitor_id), first, last)
                                ).fetchall()
    if not rows:
        return Levels(), None
    # every row's regions in one parse: per row, json.loads' own overhead was most of it
    regions_of = json.loads(f"[{','.join(row[-1] for row in rows)}]")
    levels = (_shaped_hours if hourly else _tallied_hours)(rows, regions_of, buckets)
    return levels, naive(rows[-1][0]) + HOUR


def _shaped_hours(rows, regions_of, buckets: Buckets) -> Levels:
    """Hourly buckets: a rolled-up hour is a whole bucket, its figures final (exact p95s,
    over all regions and per region), so it is shaped straight from its row with no tally,
    and only each region's sum over the range is tallied (the one histogram work here)."""
    shaped, by_region = {}, {}
    index = buckets.index
    for (hour, checks, failures, _, count, total_us, low_us, high_us, p95_us, _, _
         ), regions in zip(rows, regions_of):
        cells = {}
        for region, cell in regions.items():
            cells[region] = _rolled_out(*cell[:-1])
            by_region.setdefault(region, []).append(cell)
        times = _rolled_out(checks, failures, None, count, total_us, low_us, high_us,
                            p95_us)["response_ms"]
        shaped[index(hour)] = (checks, failures, times, cells)
    regions = {region: _summed(cells) for region, cells in by_region.items()}
    return Levels(regions=regions, overall=Tally.combined(list(regions.values())),
                  shaped=shaped)


def _rolled_out(checks, failures, _maintenance, count, total_us, low_us, high_us,
                p95_us) -> dict:
    """A rollup's stored figures (microseconds) shaped as a report gives them."""
    if not count:
        return figures_out(checks, failures, 0, 0.0, None, None, None)
    return figures_out(checks, failures, count, total_us / 1000, low_us / 1000,
                       high_us / 1000, p95_us / 1000)


def _summed(cells: list[list]) -> Tally:
    """One region's tally over rolled-up hours from their stored figures, as combining a
    tally of each would make it (the same sums in the same order, the exact p95 kept only
    if one hour has responses), with their histograms merged."""
    checks, failures, _, counts, totals, lows, highs, p95s, histograms = zip(*cells)
    total_ms, responding = 0.0, [p95 for p95 in p95s if p95 is not None]
    for total_us in totals:
        total_ms += total_us / 1000
    responses = sum(counts)
    if not responses:
        return Tally(sum(checks), sum(failures))
    return Tally(sum(checks), sum(failures), responses, total_ms,
                 min(low for low in lows if low is not None) / 1000,
                 max(high for high in highs if high is not None) / 1000,
                 [histogram.merge(histograms)],
                 responding[0] / 1000 if len(responding) == 1 else None)


def _tallied_hours(rows, regions_of, buckets: Buckets) -> Levels:
    """Buckets of several hours: each row's tallies added into its bucket's."""
    cells: dict = {}
    totals: dict = {}
    index = buckets.index
    for (hour, *figures, _), regions in zip(rows, regions_of):
        bucket = index(hour)
        _add(totals, bucket, _tally(*figures))
        for region, (*figures, counts) in regions.items():
            _add(cells, (bucket, region), _tally(*figures, counts))
    return Levels.of_rolled(cells, totals)


def rolled_sql(*, hourly: bool) -> str:
    """The one query of a report's rolled-up hours (monitor, first hour, end hour)."""
    return ("SELECT hour, checks, failures, maintenance_checks, response_count, "
            "response_sum_us, response_min_us, response_max_us, response_p95_us, "
            f"{'NULL' if hourly else 'histogram'}, regions "
            f"FROM result_hourly WHERE monitor_id = {database.param} "
            f"AND hour >= {database.param} AND hour < {database.param} "
            "ORDER BY hour")     # the order of its key: no sort


def _tally(checks, failures, _maintenance, count, total_us, low_us, high_us, p95_us,
           counts) -> Tally:
    if not count:
        return Tally(checks, failures)
    return Tally(checks, failures, count, total_us / 1000, low_us / 1000, high_us / 1000,
                 [counts] if counts else [], p95_us / 1000)


def _add(tallies: dict, key, tally: Tally) -> None:
    found = tallies.get(key)
    tallies[key] = tally if found is None else Tally.combined([found, tally])


def raw_levels(monitor_id, buckets: Buckets, spans: list[tuple], *, with_histograms: bool
               ) -> Levels:
    """The tallies of the raw results due in `spans`, with exact p95s; `with_histograms`
    when they will be added to rollups."""
    if is_postgres():
        return _raw_levels_in_sql(monitor_id, buckets, spans, with_histograms)
    return _raw_levels_here(monitor_id, buckets, spans)


_RAW_SQL = f"""
SELECT bucket, region, GROUPING(bucket, region), count(*), count(*) FILTER (WHERE NOT ok),
       count(response_ms), coalesce(sum(response_ms::float8), 0), min(response_ms),
       max(response_ms), percentile_cont(%(fraction)s) WITHIN GROUP (ORDER BY response_ms),
       {{slots}}
FROM (SELECT date_trunc(%(unit)s, due_at) AS bucket, region, ok, response_ms,
             CASE WHEN response_ms IS NOT NULL THEN {histogram.SLOT_SQL} END AS slot
      FROM check_result
      WHERE monitor_id = %(monitor)s AND NOT in_maintenance AND ({{spans}})) AS r
GROUP BY GROUPING SETS ((bucket, region), (bucket), (region), ())
"""
# per bucket and region, the histogram slot of each response (the raw part is a few hours)
_CELL_SLOTS = ("CASE WHEN GROUPING(bucket, region) = 0 THEN "
               "array_agg(slot) FILTER (WHERE slot IS NOT NULL) END")


def _raw_levels_in_sql(monitor_id, buckets, spans, with_histograms) -> Levels:
    params = {"unit": buckets.interval, "monitor": str(monitor_id),
              "fraction": histogram.FRACTION, "log_high": histogram.LOG_HIGH}
    where = " OR ".join(f"(due_at >= %(from{i})s AND due_at < %(to{i})s)"
                        for i in range(len(spans)))
    for i, (low, high) in enumerate(spans):
        params[f"from{i}"], params[f"to{i}"] = low, high
    sql = _RAW_SQL.format(slots=_CELL_SLOTS if with_histograms else "NULL", spans=where)
    levels, slots = Levels(), {}
    for bucket, region, level, *figures, cell_slots in database.execute_sql(sql, params):
        tally = Tally(*figures[:6], exact_p95=figures[6])
        if level == 3:
            levels.overall = tally
        elif level == 2:
            levels.regions[region] = tally
        elif level == 1:
            levels.buckets[buckets.index(bucket)] = tally
        else:
            key = (buckets.index(bucket), region)
            levels.cells[key] = tally
            if cell_slots:
                slots[key] = cell_slots
    for (bucket, region), found in slots.items():
        cell_histogram = histogram.of_slots(found)
        for tally in (levels.cells[bucket, region], levels.buckets[bucket],
                      levels.regions[region], levels.overall):
            tally.histograms.append(cell_histogram)
    return levels


def _raw_levels_here(monitor_id, buckets, spans) -> Levels:
    """The same, summed in Python from the rows (SQLite)."""
    due = CheckResult.due_at
    query = (CheckResult.select(due, CheckResult.region, CheckResult.ok, CheckResult.response_ms)
             .where(CheckResult.monitor == monitor_id, ~CheckResult.in_maintenance,
                    _any_span(due, spans)))
    cells, by_bucket, by_region, overall = {}, {}, {}, [0, 0, []]
    for due_at, region, ok, response_ms in query.tuples():
        bucket = buckets.index(naive(due_at))
        for group in (cells.setdefault((bucket, region), [0, 0, []]),
                      by_bucket.setdefault(bucket, [0, 0, []]),
                      by_region.setdefault(region, [0, 0, []]), overall):
            group[0] += 1
            group[1] += not ok
            if response_ms is not None:
                group[2].append(response_ms)
    levels = Levels()
    levels.cells = {key: _exact_tally(*group) for key, group in cells.items()}
    levels.buckets = {key: _exact_tally(*group) for key, group in by_bucket.items()}
    levels.regions = {key: _exact_tally(*group) for key, group in by_region.items()}
    levels.overall = _exact_tally(*overall)
    return levels


def _any_span(field, spans):
    condition = None
    for low, high in spans:
        part = (field >= low) & (field < high)
        condition = part if condition is None else condition | part
    return condition


def _exact_tally(checks: int, failures: int, values: list[float]) -> Tally:
    if not values:
        return Tally(checks, failures)
    ordered = sorted(values)
    return Tally(checks, failures, len(ordered), sum(ordered), ordered[0], ordered[-1],
                 [histogram.of_values(ordered)], exact_p95=histogram.exact(ordered))


def naive(value) -> dt.datetime:
    """A naive UTC datetime (as the database holds it) from a driver's or a caller's value."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value
