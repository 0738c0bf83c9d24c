"""Benchmark: the performance report of one uptime monitor over 30 days in hourly buckets.

Starts Postgres on loopback, creates a customer, a service and 77 monitors (3 regions, a check
a minute), fills check_result with 10 million results over the last 30 days (COPY from a
generated stream: a few % failures, outages, log-normal response times), rebuilds the hourly
rollups of every hour and the daily ones of every completed day, and runs VACUUM ANALYZE.
Then it times the report 200 times after a warm-up and, as the same-run baselines taking turns
with it, the same report computed from raw results only (`use_rollups=False`, 20 times) and
the bare fetch of the rollup rows the report reads (the report's queries, rows as the driver
gives them, nothing made of them), and prints the ratios: the targets are >= 30 x faster
than raw and <= 3 x the bare fetch. Run: .venv/bin/python bench/statistics.py [--rows N]
(`--monitors 5 --rows 650000` gives the timed monitor the same 30 days in a minute).
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pinghome.localservers import Postgres  # noqa: E402

REGIONS = ("eu-central-1", "us-east-1", "ap-southeast-1")
SECRET = "bench-secret-key-0123456789-0123456789"
UTC = dt.timezone.utc


def main() -> None:
    options = parse_options()
    phases: dict[str, float] = {}
    started = time.perf_counter()
    postgres = Postgres().start()
    try:
        phases["start Postgres"] = time.perf_counter() - started
        figures = run(postgres, options, phases)
    finally:
        postgres.destroy()
    report(figures, phases, time.perf_counter() - started)


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000, help="raw results to load")
    parser.add_argument("--monitors", type=int, default=77)
    parser.add_argument("--runs", type=int, default=200, help="timed reports from rollups")
    parser.add_argument("--raw-runs", type=int, default=20, help="timed reports, raw only")
    return parser.parse_args()


def run(postgres, options, phases) -> dict:
    now = dt.datetime.now(UTC).replace(second=30, microsecond=0)
    with phase(phases, "migrate, customer, service, monitors"):
        monitors = prepare(postgres, options.monitors, now)
    with phase(phases, f"generate and COPY {options.rows:,} results"):
        rows = fill(postgres.url, monitors, now, options.rows)
    with phase(phases, "rebuild every hour's rollups"):
        hours, written = rebuild_hours(now, days=31)
    with phase(phases, "sum every completed day's rollups"):
        written += sum_days(now, days=31)
    with phase(phases, "VACUUM ANALYZE, CHECKPOINT"):
        analyze(postgres.url)
    from pinghome.runtime import settle_heap
    settle_heap()                   # as the API process does once started
    monitor = monitors[0]
    start = now - dt.timedelta(days=30)
    with phase(phases, f"{options.runs} reports from rollups and bare fetches, "
                       f"{options.raw_runs} from raw results, taking turns"):
        rolled, bare, raw = timings(monitor, start, now, options.runs, options.raw_runs)
    return {"rows": rows, "hours": hours, "written": written, "rolled": rolled, "raw": raw,
            "bare": bare, "monitors": len(monitors)}


class phase:
    """Times a block into `phases[name]` and says what it is doing."""

    def __init__(self, phases, name):
        self.phases, self.name = phases, name

    def __enter__(self):
        print(f"... {self.name}", flush=True)
        self.started = time.perf_counter()

    def __exit__(self, *exc):
        self.phases[self.name] = time.perf_counter() - self.started


def prepare(postgres, count: int, now: dt.datetime) -> list:
    """Configures the domain layer on `postgres`, migrates, and creates a customer (with their
    organisation and team), a service and `count` monitors created 31 days ago."""
    from models import accounts, db, organisations, services
    from models.monitors.tables import Monitor
    from models.settings import Settings
    from pinghome.runtime import prepare as prepare_runtime
    settings = Settings(database_url=postgres.url, secret_key=SECRET, ntp_server=None,
                        data_dir=tempfile.mkdtemp(prefix="pinghome-bench-"),
                        log_level="WARNING", regions=REGIONS)
    prepare_runtime(settings)
    db.migrate(settings.data_dir)
    customer = accounts.sign_up(name="Bench", surname="Mark", email="bench@example.com",
                                password="correct-horse-1", settings=settings, now=now, ip=None)
    team = organisations.teams_of(customer)[0][0]
    service = services.create_service(accounts.Caller(customer=customer, session_id=None),
                                      name="Bench", team_id=team.id, now=now)
    created = now - dt.timedelta(days=31)
    return [Monitor.create(service=service, name=f"bench-{n}", type="http",
                           url=f"https://example.com/{n}", regions=list(REGIONS),
                           interval_seconds=60, created_at=created, updated_at=created)
            for n in range(count)]


def fill(url: str, monitors: list, now: dt.datetime, rows: int) -> int:
    """COPYs `rows` results, a check a minute per monitor and region up to `now`, in due
    order (as they arrive), with the matching overall state changes of each outage."""
    import psycopg2
    series = len(monitors) * len(REGIONS)
    minutes = math.ceil(rows / series)
    first = now.replace(second=0, tzinfo=None) - dt.timedelta(minutes=minutes - 1)
    outages = {m.id: _outages(random.Random(n), first, minutes) for n, m in enumerate(monitors)}
    connection = psycopg2.connect(url)
    with connection, connection.cursor() as cursor:
        # bulk load: skip the per-row foreign key triggers (every monitor_id exists)
        cursor.execute("SET session_replication_role = replica")
        cursor.copy_expert(
            "COPY check_result (monitor_id, region, due_at, checked_at, ok, in_maintenance, "
            "response_ms, status_code) FROM STDIN",
            _Stream(_result_lines(monitors, outages, first, minutes, rows)), size=1 << 20)
        cursor.execute("SET session_replication_role = DEFAULT")
        _record_outages(cursor, outages, first)
    connection.close()
    return rows


def _outages(draw: random.Random, first: dt.datetime, minutes: int) -> list[tuple[int, int]]:
    """A few outages of 3 to 40 minutes: (first minute, last minute + 1)."""
    found = []
    for _ in range(draw.randint(1, 5)):
        begin = draw.randrange(minutes - 60)
        found.append((begin, begin + draw.randint(3, 40)))
    return sorted(found)


def _result_lines(monitors, outages, first, minutes, rows):
    """The COPY text of the results, minute after minute."""
    draw = random.Random(42)
    # per monitor a typical response time; per row a log-normal spread around it
    medians = [draw.uniform(40, 400) for _ in monitors]
    spread = [draw.lognormvariate(0, 0.35) for _ in range(65_536)]
    ids = [str(m.id) for m in monitors]
    down = [set(minute for a, b in outages[m.id] for minute in range(a, b)) for m in monitors]
    left, cycle = rows, 0
    for minute in range(minutes):
        stamp = (first + dt.timedelta(minutes=minute)).isoformat(sep=" ")
        lines = []
        for index, monitor_id in enumerate(ids):
            for region in REGIONS:
                if left == 0:
                    break
                left -= 1
                cycle = (cycle + 7919) & 65_535
                if minute in down[index] or spread[cycle] > 2.3:      # ~1 % random failures
                    lines.append(f"{monitor_id}\t{region}\t{stamp}\t{stamp}\tf\tf\t\\N\t503\n")
                else:
                    response = medians[index] * spread[cycle]
                    lines.append(f"{monitor_id}\t{region}\t{stamp}\t{stamp}\tt\tf\t"
                                 f"{response:.3f}\t200\n")
        yield "".join(lines)


class _Stream:
    """A file-like reader over generated text chunks, for COPY."""

    def __init__(self, chunks):
        self.chunks, self.buffer = chunks, ""

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self.buffer) < size:
            chunk = next(self.chunks, None)
            if chunk is None:
                break
            self.buffer += chunk
        if size < 0:
            size = len(self.buffer)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def _record_outages(cursor, outages, first: dt.datetime) -> None:
    """The overall state changes: up at the first result, down and up around outages."""
    rows = []
    for monitor_id, spans in outages.items():
        rows.append((monitor_id, "unknown", "up", first))
        for begin, end in spans:
            rows.append((monitor_id, "up", "down", first + dt.timedelta(minutes=begin)))
            rows.append((monitor_id, "down", "up", first + dt.timedelta(minutes=end)))
    for monitor_id, before, after, changed_at in rows:
        cursor.execute(
            "INSERT INTO state_change (id, subject_type, subject_id, region, from_status, "
            "to_status, cause, changed_at, trigger_key, recorded_at, rules_applied_at) "
            "VALUES (%s, 'monitor', %s, NULL, %s, %s, %s, %s, %s, %s, %s)",
            (str(uuid.uuid4()), str(monitor_id), before, after,
             "HTTP 503" if after == "down" else None, changed_at, str(uuid.uuid4()),
             changed_at, changed_at))


def rebuild_hours(now: dt.datetime, *, days: int) -> tuple[int, int]:
    """Rebuilds every completed hour of the last `days` days, oldest first."""
    from models import statistics
    hour = (now - dt.timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    last = now.replace(minute=0, second=0, microsecond=0)
    hours = written = 0
    while hour < last:
        written += statistics.rebuild_hour(hour)
        hours += 1
        hour += dt.timedelta(hours=1)
    return hours, written


def sum_days(now: dt.datetime, *, days: int) -> int:
    """Sums every completed day of the last `days` days (as rollup_due does once a day's
    hours are final)."""
    from models import statistics
    day = (now - dt.timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    written = 0
    while day + dt.timedelta(days=1) <= now:
        written += statistics.rebuild_day(day)
        day += dt.timedelta(days=1)
    return written


def analyze(url: str) -> None:
    """Statistics for the planner, hint bits set (so no timed read writes pages) and every
    dirty page written, so no background write competes with the timed runs."""
    import psycopg2
    connection = psycopg2.connect(url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")
    connection.close()


def timings(monitor, start, end, runs: int, raw_runs: int) -> tuple[list, list, list]:
    """Milliseconds of `runs` reports from rollups, `runs` bare fetches of what such a report
    reads of the rollups and `raw_runs` reports from raw results only (in that order),
    taking turns (on a shared machine, timings taken one kind after another drift apart with
    its load), after a few untimed ones of each.

    The bare fetch is the report's own queries of the rollups
    (models.statistics.reading.fetch: the days' rows, then the hours') over the same
    completed hours, every row fetched as the driver gives it."""
    from models import statistics
    from models.statistics import reading
    from models.statistics.report import _whole_hours     # the hours the report reads rolled up

    def report(use_rollups: bool):
        statistics.performance_report(monitor, start=start, end=end, interval="hour", now=end,
                                      use_rollups=use_rollups)

    hours = _whole_hours(start, end, end)
    kinds = (lambda: report(True), lambda: reading.fetch(monitor.id, *hours, hourly=True),
             lambda: report(False))
    for kind in kinds:
        for _ in range(3):
            kind()
    found: tuple[list, list, list] = ([], [], [])
    raw_every = max(1, runs // max(1, raw_runs))
    for run in range(runs):
        for kind, times in zip(kinds, found):
            if kind is kinds[2] and run % raw_every:
                continue
            began = time.perf_counter()
            kind()
            times.append((time.perf_counter() - began) * 1000)
    return found


def percentile(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(len(ordered) * percent / 100) - 1)]


def report(figures: dict, phases: dict, total: float) -> None:
    print("phases:")
    for name, seconds in phases.items():
        print(f"  {name}: {seconds:.1f} s")
    print(f"  total: {total:.1f} s")
    print(f"data: {figures['rows']:,} results of {figures['monitors']} monitors x "
          f"{len(REGIONS)} regions; {figures['written']:,} rollup rows over "
          f"{figures['hours']} hours")
    rolled, raw, bare = figures["rolled"], figures["raw"], figures["bare"]
    for name, values in (("report from rollups", rolled), ("report from raw results", raw),
                         ("bare fetch of the rollup rows", bare)):
        print(f"{name}: p50 {percentile(values, 50):.2f} ms, p95 {percentile(values, 95):.2f}"
              f" ms, p99 {percentile(values, 99):.2f} ms, mean {sum(values) / len(values):.2f} ms "
              f"({len(values)} runs; 30 days, hourly, 3 regions)")
    faster = percentile(raw, 50) / percentile(rolled, 50)
    of_bare = percentile(rolled, 50) / percentile(bare, 50)
    print(f"rollups vs raw results: {faster:.1f} x faster (medians; target >= 30)")
    print(f"report vs bare fetch: {of_bare:.2f} x the bare fetch (medians; target <= 3)")
    print(f"bench statistics: p95 {percentile(rolled, 95):.2f} ms over {figures['rows']} rows, "
          f"{faster:.1f} x faster than raw, {of_bare:.2f} x the bare fetch")


if __name__ == "__main__":
    main()
