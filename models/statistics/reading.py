"""Reading a report's tallies: completed hours from the hourly rollups (and, in hourly reports,
each region's figures over whole days from the daily ones), everything else from the raw
results. Instants here are naive UTC datetimes, as the database holds them.

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
from models.statistics.intervals import DAY, HOUR, STEPS, floor, utc
from models.statistics.tally import Levels, Tally, figures_out


class Buckets:
    """Which bucket of a report an instant (naive UTC) falls in: by arithmetic where buckets
    have one length (all but months), else by a binary search."""

    def __init__(self, edges: list[dt.datetime], interval: str):
        self.interval = interval
        # the edges are aware UTC (intervals.edges): dropping the zone is all naive() would do
        self._second = edges[1].replace(tzinfo=None) if len(edges) > 2 else None
        self._last = len(edges) - 2
        self._step = STEPS.get(interval)
        self._starts = None if self._step else [edge.replace(tzinfo=None)
                                                for edge in edges[:-1]]

    def index(self, instant) -> int:
        moment = instant if isinstance(instant, dt.datetime) else naive(instant)
        if self._step is None:
            return max(0, bisect_right(self._starts, moment) - 1)
        if self._second is None or moment < self._second:
            return 0
        return min(self._last, 1 + (moment - self._second) // self._step)


def rolled_levels(monitor_id, buckets: Buckets, first: dt.datetime, last: dt.datetime
                  ) -> tuple[Levels, dt.datetime | None]:
    """The tallies of the monitor's rollups of the hours in [first, last), and where the
    rolled-up hours end: the hour after its latest rollup (None without any). Rollups are
    built hour after hour up to the last completed one, so hours after that are not rolled
    up yet, and hours before it are."""
    hourly = buckets.interval == "hour"
    days, span, rows = fetch(monitor_id, first, last, hourly=hourly)
    ends = [naive(rows[-1][0]) + HOUR] if rows else []
    if span[0] < span[1]:
        ends.append(span[1])
    if not ends:
        return Levels(), None
    levels = (_hourly_levels if hourly else _tallied_hours)(days, span, rows, buckets)
    return levels, max(ends)


def fetch(monitor_id, first: dt.datetime, last: dt.datetime, *, hourly: bool
          ) -> tuple[list, tuple, list]:
    """What a report reads of the rollups of [first, last), as the driver gives it: the rows
    of the completed days inside it (day, overall, regions), the span they answer for, and
    the hours' rows: in hourly buckets every hour's (_HOURS_SQL), whose regions come only
    for hours outside the span or never rendered; in buckets of several hours those outside
    the span (_SEVERAL_HOURS_SQL), the days answering for the rest."""
    monitor = _monitor(monitor_id)
    # the days wholly inside: from the first midnight on, ending by `last`
    days = database.execute_sql(_sql(_DAYS_SQL), (monitor, _ceil_day(first), day_of(last))
                                ).fetchall()
    span = _covered(days)
    statement = _HOURS_SQL if hourly else _SEVERAL_HOURS_SQL
    return days, span, database.execute_sql(_sql(statement), (*span, monitor, first, last)
                                            ).fetchall()


_DAYS_SQL = ("SELECT day, overall, regions FROM result_daily WHERE monitor_id = {p} "
             "AND day >= {p} AND day < {p} ORDER BY day")
_HOURS_SQL = ("SELECT hour, checks, failures, response_count, response_sum_us, "
              "response_min_us, response_max_us, response_p95_us, rendered_regions, rendered, "
              "CASE WHEN rendered IS NULL OR hour < {p} OR hour >= {p} THEN regions END "
              "FROM result_hourly WHERE monitor_id = {p} AND hour >= {p} AND hour < {p} "
              "ORDER BY hour")     # the order of its key: no sort
_SEVERAL_HOURS_SQL = (
    "SELECT hour, checks, failures, maintenance_checks, response_count, response_sum_us, "
    "response_min_us, response_max_us, response_p95_us, histogram, regions "
    "FROM result_hourly WHERE (hour < {p} OR hour >= {p}) "
    "AND monitor_id = {p} AND hour >= {p} AND hour < {p} ORDER BY hour")


def _sql(statement: str) -> str:
    """A statement above with the database's parameter marks."""
    return statement.format(p=database.param)


def day_of(instant: dt.datetime) -> dt.datetime:
    """The start of the UTC day of a naive UTC instant, naive."""
    return naive(floor(utc(instant), "day"))


def _ceil_day(instant: dt.datetime) -> dt.datetime:
    day = day_of(instant)
    return day if day == instant else day + DAY


def _covered(days: list) -> tuple[dt.datetime, dt.datetime]:
    """The span the day rows answer for their regions' figures: from the first to the end of
    the last, when they follow each other without a gap (else none: hours answer it all)."""
    if not days:
        return _NO_SPAN
    starts = [naive(row[0]) for row in days]
    if starts[-1] - starts[0] != (len(starts) - 1) * DAY:
        return _NO_SPAN
    return starts[0], starts[-1] + DAY


_NO_SPAN = (dt.datetime.min, dt.datetime.min)


def _hourly_levels(days: list, span: tuple, rows: list, buckets: Buckets) -> Levels:
    """Hourly buckets: a rolled-up hour is a whole bucket, its figures final (exact p95s,
    over all regions and per region), so it is spliced from the text it was rendered as, or
    shaped straight from its row where it has none; each region's figures over the range
    are summed from the days' rows and the rows of the hours around them."""
    by_region: dict[str, list] = {}
    for regions in _parsed([row[2] for row in days] if span[0] < span[1] else []):
        for region, cell in regions.items():
            by_region.setdefault(region, []).append(cell)
    rendered, shaped = {}, {}
    index = buckets.index
    regions_of = iter(_parsed([row[-1] for row in rows if row[-1] is not None]))
    for (hour, checks, failures, count, total_us, low_us, high_us, p95_us, names, text,
         stored) in rows:
        regions = None if stored is None else next(regions_of)
        if text is not None:
            rendered[index(hour)] = (names, text)
        else:
            cells = {region: _rolled_out(*cell[:-1]) for region, cell in regions.items()}
            times = _rolled_out(checks, failures, None, count, total_us, low_us, high_us,
                                p95_us)["response_ms"]
            shaped[index(hour)] = (checks, failures, times, cells)
        if regions is not None and not span[0] <= naive(hour) < span[1]:
            for region, cell in regions.items():
                by_region.setdefault(region, []).append(cell)
    regions = {region: _tally(*summed(cells)) for region, cells in by_region.items()}
    return Levels(regions=regions, overall=Tally.combined(list(regions.values())),
                  shaped=shaped, rendered=rendered)


def _parsed(texts: list[str]) -> list:
    # every row's regions in one parse: per row, json.loads' own overhead was most of it
    return json.loads(f"[{','.join(texts)}]") if texts else []


def _rolled_out(checks, failures, _maintenance, count, total_us, low_us, high_us,
                p95_us) -> dict:
    """A rollup's stored figures (microseconds) shaped as a report gives them."""
    if not count:
        return figures_out(checks, failures, 0, 0.0, None, None, None)
    return figures_out(checks, failures, count, total_us / 1000, low_us / 1000,
                       high_us / 1000, p95_us / 1000)


def rendered_hour(figures: list, regions: dict) -> tuple[str, str]:
    """An hour's rollup rendered as its bucket in a report (`figures` over all regions and
    each region's, both in REGION_FIGURES order), and the regions it names: the rendering
    of rollups written here (SQLite); on Postgres the rebuild renders in SQL (rollups'
    _RENDERED_UPTIME and _RENDERED_TIMES), which must give the same JSON values."""
    names = sorted(regions)
    bucket = {"checks": figures[0], "failures": figures[1],
              "response_ms": _rolled_out(*figures[:8])["response_ms"],
              "regions": {region: _rolled_out(*regions[region][:8]) for region in names}}
    return json.dumps(bucket, separators=(",", ":")), ",".join(names)


def summed(cells: list[list]) -> list:
    """The figures (REGION_FIGURES) of several rollups of one region summed: the exact p95
    kept only where one of them has responses, the histograms merged."""
    checks, failures, maintenance, counts, totals, lows, highs, p95s, histograms = zip(*cells)
    responding = [p95 for count, p95 in zip(counts, p95s) if count]
    return [sum(checks), sum(failures), sum(maintenance), sum(counts), sum(totals),
            min((low for low in lows if low is not None), default=None),
            max((high for high in highs if high is not None), default=None),
            responding[0] if len(responding) == 1 else None, histogram.merge(histograms)]


def _monitor(monitor_id):
    return ResultHourly.monitor.db_value(monitor_id)


def _tallied_hours(days: list, span: tuple, rows: list, buckets: Buckets) -> Levels:
    """Buckets of several hours: each day's and each hour's tallies added into its
    bucket's (a day lies in one bucket: they start at midnights)."""
    if span[0] >= span[1]:
        days = []
    parsed = iter(_parsed([text for row in days for text in row[1:]]
                          + [row[-1] for row in rows]))
    cells: dict = {}
    totals: dict = {}
    index = buckets.index
    for day, _, _ in days:
        bucket = index(day)
        _add(totals, bucket, _tally(*next(parsed)))
        for region, cell in next(parsed).items():
            _add(cells, (bucket, region), _tally(*cell))
    for hour, *figures, _ in rows:
        bucket = index(hour)
        _add(totals, bucket, _tally(*figures))
        for region, (*figures, counts) in next(parsed).items():
            _add(cells, (bucket, region), _tally(*figures, counts))
    return Levels.of_rolled(cells, totals)


def _tally(checks, failures, _maintenance, count, total_us, low_us, high_us, p95_us,
           counts) -> Tally:
    if not count:
        return Tally(checks, failures)
    return Tally(checks, failures, count, total_us / 1000, low_us / 1000, high_us / 1000,
                 [counts] if counts else [], None if p95_us is None else p95_us / 1000)


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
