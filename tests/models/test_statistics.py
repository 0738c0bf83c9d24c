"""The performance report, the state change history, hourly rollups and retention."""
from __future__ import annotations

import datetime as dt
import itertools
import math
import random

import orjson
import pytest

from models import statistics
from models.errors import Invalid
from models.monitors.tables import Monitor
from models.state_changes import StateChange
from models.results import REGION_FIGURES, CheckResult, ResultDaily, ResultHourly
from models.statistics import histogram, reading
from tests.factories.accounts import make_customer
from tests.factories.organisations import first_team, make_service

UTC = dt.timezone.utc
DAY0 = dt.datetime(2026, 6, 1, tzinfo=UTC)           # a Monday
NOW = DAY0 + dt.timedelta(days=3)
H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
# the p95 read from histograms is within this share of the exact one (see histogram.py)
P95_ERROR = histogram.RATIO - 1
_keys = itertools.count()


@pytest.fixture
def service(settings):
    return make_service(first_team(make_customer(settings)))


def new_monitor(service, *, created_at=DAY0 - dt.timedelta(days=40), regions=("eu", "us"),
                **fields) -> Monitor:
    return Monitor.create(service=service, name=f"Monitor {next(_keys)}", type="http",
                          url="http://127.0.0.1:9/", regions=list(regions),
                          created_at=created_at, updated_at=created_at, **fields)


@pytest.fixture
def monitor(service):
    return new_monitor(service)


def add_results(monitor, start, count, *, region="eu", every=M, failing=(),
                response=lambda i: 100.0 + i % 50, in_maintenance=False) -> list[dict]:
    """`count` checks from `start`, one every `every`; those numbered in `failing` fail."""
    rows = [{"monitor": monitor.id, "region": region, "due_at": start + i * every,
             "checked_at": start + i * every, "ok": i not in failing,
             "in_maintenance": in_maintenance,
             "response_ms": None if i in failing else response(i)} for i in range(count)]
    for first in range(0, len(rows), 500):
        CheckResult.insert_many(rows[first:first + 500]).execute()
    return rows


def change(monitor, at, to_status, from_status="up", *, region=None, cause=None,
           regions_down=None):
    return StateChange.create(subject_type="monitor", subject_id=monitor.id, region=region,
                              from_status=from_status, to_status=to_status, cause=cause,
                              changed_at=at, regions_down=regions_down,
                              trigger_key=f"t{next(_keys)}", recorded_at=at)


def report(monitor, start, end, **options):
    """The report as a client reads it (its rolled-up hours are JSON text until then)."""
    return orjson.loads(orjson.dumps(
        statistics.performance_report(monitor, start=start, end=end, now=NOW, **options)))


def rebuild(start, hours):
    for hour in range(hours):
        statistics.rebuild_hour(start + hour * H)


# -- intervals and buckets ----------------------------------------------------------------

@pytest.mark.parametrize("length, interval", [
    (H, "minute"), (2 * H, "minute"), (2 * H + M, "hour"), (dt.timedelta(days=3), "hour"),
    (dt.timedelta(days=3, minutes=1), "day"), (dt.timedelta(days=90), "day"),
    (dt.timedelta(days=91), "week"), (dt.timedelta(days=366), "week"),
    (dt.timedelta(days=367), "month")])
def test_the_interval_defaults_from_the_length_of_the_range(monitor, length, interval):
    assert statistics.default_interval(DAY0, DAY0 + length) == interval
    assert report(monitor, NOW - length, NOW)["interval"] == interval


@pytest.mark.parametrize("start, end, interval, expected", [
    ("2026-06-01T10:30", "2026-06-01T13:00", "hour",
     ["2026-06-01T10:30", "2026-06-01T11:00", "2026-06-01T12:00"]),
    ("2026-06-01T10:00:30", "2026-06-01T10:03", "minute",
     ["2026-06-01T10:00:30", "2026-06-01T10:01", "2026-06-01T10:02"]),
    ("2026-06-03T08:00", "2026-06-06T00:00", "day",
     ["2026-06-03T08:00", "2026-06-04T00:00", "2026-06-05T00:00"]),
    ("2026-06-03T00:00", "2026-06-20T00:00", "week",          # Wednesday; weeks from Monday
     ["2026-06-03T00:00", "2026-06-08T00:00", "2026-06-15T00:00"]),
    ("2025-11-15T00:00", "2026-02-10T00:00", "month",
     ["2025-11-15T00:00", "2025-12-01T00:00", "2026-01-01T00:00", "2026-02-01T00:00"]),
])
def test_buckets_start_at_utc_boundaries_within_the_range(monitor, start, end, interval,
                                                          expected):
    start, end = (dt.datetime.fromisoformat(t).replace(tzinfo=UTC) for t in (start, end))
    buckets = report(monitor, start, end, interval=interval)["buckets"]
    starts = [dt.datetime.fromisoformat(b["start"].replace("Z", "+00:00")) for b in buckets]
    assert starts == [dt.datetime.fromisoformat(t).replace(tzinfo=UTC) for t in expected]
    assert [b["end"] for b in buckets[:-1]] == [b["start"] for b in buckets[1:]]
    assert buckets[-1]["end"] == end.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("start, end, options, field", [
    (DAY0, DAY0 + H, {"interval": "fortnight"}, "interval"),
    (DAY0, DAY0, {"interval": "hour"}, "start_date"),
    (DAY0 + H, DAY0, {}, "start_date"),
    (DAY0, DAY0 + dt.timedelta(days=2, minutes=1), {"interval": "minute"}, "interval"),
    (DAY0, DAY0 + 5001 * H, {"interval": "hour"}, "start_date"),
    (DAY0, DAY0 + H, {"limit": 0}, "limit"),
])
def test_a_bad_interval_range_or_limit_is_refused_naming_the_field(monitor, start, end,
                                                                   options, field):
    with pytest.raises(Invalid) as caught:
        report(monitor, start, end, **options)
    assert field in caught.value.fields and field in caught.value.message


@pytest.mark.parametrize("length, interval", [
    (dt.timedelta(days=2), "minute"), (5000 * H, "hour")])
def test_the_largest_ranges_allowed_are_answered(monitor, length, interval):
    assert len(report(monitor, DAY0, DAY0 + length, interval=interval)["buckets"]) == (
        length // {"minute": M, "hour": H}[interval])


def test_limit_keeps_the_newest_buckets_and_the_report_covers_just_them(monitor):
    add_results(monitor, DAY0, 300)                   # 5 hours, one check a minute
    body = report(monitor, DAY0, DAY0 + 5 * H, interval="hour", limit=2)
    assert [b["start"] for b in body["buckets"]] == ["2026-06-01T03:00:00Z",
                                                      "2026-06-01T04:00:00Z"]
    assert body["start_date"] == "2026-06-01T03:00:00Z"
    assert body["summary"]["checks"] == 120


# -- uptime: per region in checks, overall in time ------------------------------------------

def test_regions_count_checks_while_the_overall_uptime_counts_time_down(monitor):
    add_results(monitor, DAY0, 120, region="eu", failing=range(30, 60))
    add_results(monitor, DAY0, 120, region="us")
    change(monitor, DAY0 - dt.timedelta(days=1), "up", "unknown")
    change(monitor, DAY0 + 30 * M, "down")
    change(monitor, DAY0 + 45 * M, "up", "down")
    body = report(monitor, DAY0, DAY0 + 2 * H, interval="hour")
    first = body["buckets"][0]
    assert first["regions"]["eu"] | {"response_ms": None} == {
        "checks": 60, "failures": 30, "uptime_percent": 50.0, "response_ms": None}
    assert first["regions"]["us"]["uptime_percent"] == 100.0
    assert (first["checks"], first["failures"]) == (120, 30)
    assert (first["downtime_seconds"], first["uptime_percent"]) == (900, 75.0)
    assert body["buckets"][1]["uptime_percent"] == 100.0
    assert body["summary"] | {"response_ms": None} == {
        "uptime_percent": 87.5, "checks": 240, "failures": 30, "downtime_seconds": 900,
        "response_ms": None}
    assert body["regions"]["eu"]["uptime_percent"] == 75.0


def test_a_down_period_is_split_at_bucket_edges_and_may_begin_before_the_range(monitor):
    change(monitor, DAY0 - dt.timedelta(days=1), "down", "up")
    change(monitor, DAY0 + 20 * M, "up", "down")
    change(monitor, DAY0 + H + 40 * M, "down")
    change(monitor, DAY0 + 3 * H + 20 * M, "up", "down")
    body = report(monitor, DAY0, DAY0 + 4 * H, interval="hour")
    assert [b["downtime_seconds"] for b in body["buckets"]] == [1200, 1200, 3600, 1200]
    assert [b["uptime_percent"] for b in body["buckets"]] == [66.6667, 66.6667, 0.0, 66.6667]
    assert body["summary"]["downtime_seconds"] == 7200
    assert body["summary"]["uptime_percent"] == 50.0


def test_maintenance_windows_count_neither_as_downtime_nor_as_watched_time(service):
    monitor = new_monitor(service, maintenance_cron_expression="0 1 * * *",
                          maintenance_duration=30)        # 01:00-01:30 every day
    change(monitor, DAY0 + 30 * M, "down")
    change(monitor, DAY0 + 2 * H, "up", "down")
    add_results(monitor, DAY0 + H, 30, in_maintenance=True, failing=range(30))
    add_results(monitor, DAY0 + H + 30 * M, 30, failing=range(30))
    body = report(monitor, DAY0, DAY0 + 3 * H, interval="hour")
    assert [b["downtime_seconds"] for b in body["buckets"]] == [1800, 1800, 0]
    assert [b["uptime_percent"] for b in body["buckets"]] == [50.0, 0.0, 100.0]
    assert body["buckets"][1]["regions"]["eu"]["checks"] == 30      # not those in maintenance
    assert body["summary"]["uptime_percent"] == round(100 * (1 - 3600 / 9000), 4)


def test_time_before_the_monitor_was_created_or_after_now_is_not_watched(service):
    monitor = new_monitor(service, created_at=DAY0 + 30 * M)
    change(monitor, DAY0 + 30 * M, "down", "unknown")
    body = statistics.performance_report(monitor, start=DAY0, end=DAY0 + 4 * H,
                                         interval="hour", now=DAY0 + 2 * H + 15 * M)
    assert [b["downtime_seconds"] for b in body["buckets"]] == [1800, 3600, 900, 0]
    assert [b["uptime_percent"] for b in body["buckets"]] == [0.0, 0.0, 0.0, None]
    before = report(monitor, DAY0 - 2 * H, DAY0, interval="hour")
    assert before["summary"]["uptime_percent"] is None


# -- response times and rollups ---------------------------------------------------------------

def test_the_p95_of_raw_results_is_exact(monitor):
    add_results(monitor, DAY0, 100, every=dt.timedelta(seconds=30),
                response=lambda i: float(i + 1))                       # 1 .. 100 ms
    body = report(monitor, DAY0, DAY0 + 2 * H, interval="hour")
    assert body["buckets"][0]["response_ms"] == pytest.approx(
        {"avg": 50.5, "min": 1.0, "max": 100.0, "p95": 95.05})       # percentile_cont(0.95)
    assert body["summary"]["response_ms"]["p95"] == pytest.approx(95.05)


@pytest.mark.parametrize("seed", range(3))
def test_the_p95_read_from_rollups_is_within_one_histogram_bucket_of_the_exact_one(
        monitor, seed):
    draw = random.Random(seed)
    values = [draw.lognormvariate(math.log(150), 0.6) for _ in range(600)]
    add_results(monitor, DAY0, 600, response=lambda i: values[i])
    rebuild(DAY0, 10)
    rolled = report(monitor, DAY0, DAY0 + 10 * H, interval="hour")
    exact = report(monitor, DAY0, DAY0 + 10 * H, interval="hour", use_rollups=False)
    pairs = [(rolled["summary"], exact["summary"])] + list(zip(rolled["buckets"],
                                                               exact["buckets"]))
    for estimated, measured in pairs:
        estimate, truth = estimated["response_ms"]["p95"], measured["response_ms"]["p95"]
        assert abs(estimate - truth) <= truth * P95_ERROR
    assert rolled["summary"]["response_ms"]["p95"] != exact["summary"]["response_ms"]["p95"]


def test_completed_hours_are_read_from_the_rollups_and_minutes_from_raw_results(monitor):
    add_results(monitor, DAY0, 120)
    rebuild(DAY0, 2)
    row = ResultHourly.get(ResultHourly.hour == DAY0)
    row.checks, row.regions["eu"][0] = 999, 999
    row.rendered = row.rendered.replace('"checks":60', '"checks":999')   # the hour's and eu's
    row.save()
    answer = report(monitor, DAY0, DAY0 + 2 * H, interval="hour")
    assert answer["summary"]["checks"] == 1059 and answer["buckets"][0]["checks"] == 999
    assert answer["buckets"][0]["regions"]["eu"]["checks"] == 999
    assert report(monitor, DAY0, DAY0 + 2 * H, interval="minute")["summary"]["checks"] == 120
    assert report(monitor, DAY0, DAY0 + 2 * H, interval="hour",
                  use_rollups=False)["summary"]["checks"] == 120


@pytest.mark.parametrize("interval, start, end", [
    ("day", DAY0 + 20 * M, NOW),               # rollups of 2 days, raw partial hours around
    ("hour", DAY0 + 20 * M, DAY0 + 8 * H + 30 * M),
    ("week", DAY0, NOW + dt.timedelta(days=1)),
])
def test_rollups_with_raw_partial_hours_answer_like_raw_results_alone(service, interval, start,
                                                                      end):
    monitor = new_monitor(service, regions=("eu", "us"))
    draw = random.Random(7)
    for region in ("eu", "us"):
        add_results(monitor, DAY0, 4400, region=region, failing=set(range(100, 4400, 37)),
                    # to the microsecond, as probes measure and rollups keep them
                    response=lambda i: round(draw.lognormvariate(math.log(200), 0.5), 3))
    change(monitor, DAY0 + 5 * H + 7 * M, "down")
    change(monitor, DAY0 + 6 * H + 3 * M, "up", "down")
    rebuild(DAY0, 48)        # the last hours of the results are not rolled up yet
    mixed = report(monitor, start, end, interval=interval)
    raw = report(monitor, start, end, interval=interval, use_rollups=False)
    for ours, theirs in _figures(mixed, raw):
        assert ours["checks"] == theirs["checks"] and ours["failures"] == theirs["failures"]
        assert ours.get("uptime_percent") == theirs.get("uptime_percent")
        assert ours.get("downtime_seconds") == theirs.get("downtime_seconds")
        times, exact = ours["response_ms"], theirs["response_ms"]
        assert times["avg"] == pytest.approx(exact["avg"], rel=1e-6)
        assert (times["min"], times["max"]) == (exact["min"], exact["max"])
        if exact["p95"] is not None:
            assert abs(times["p95"] - exact["p95"]) <= exact["p95"] * P95_ERROR


def test_hourly_rollups_of_regions_answering_in_different_hours_answer_like_raw_results(
        service):
    monitor = new_monitor(service, regions=("eu", "us", "ap"))
    add_results(monitor, DAY0, 60, region="eu", failing={3, 4})
    add_results(monitor, DAY0 + H, 60, region="us")
    add_results(monitor, DAY0 + 2 * H, 60, region="ap", failing=set(range(60)))
    rebuild(DAY0, 3)
    rolled = report(monitor, DAY0, DAY0 + 3 * H, interval="hour")
    raw = report(monitor, DAY0, DAY0 + 3 * H, interval="hour", use_rollups=False)
    # each hour has one region, and each region one hour: every figure is exact but the
    # summary's p95, which merges the hours' histograms
    assert rolled["buckets"] == raw["buckets"] and rolled["regions"] == raw["regions"]
    assert list(rolled["buckets"][0]["regions"]) == ["ap", "eu", "us"]
    assert rolled["buckets"][0]["regions"]["us"] == raw["buckets"][0]["regions"]["us"] == {
        "checks": 0, "failures": 0, "uptime_percent": None,
        "response_ms": {"avg": None, "min": None, "max": None, "p95": None}}
    assert rolled["regions"]["ap"]["response_ms"]["p95"] is None
    assert rolled["summary"] | {"response_ms": None} == raw["summary"] | {"response_ms": None}


def _figures(mixed, raw):
    """Every figure of two reports, side by side."""
    yield mixed["summary"], raw["summary"]
    for region, figures in mixed["regions"].items():
        yield figures, raw["regions"][region]
    assert len(mixed["buckets"]) == len(raw["buckets"])
    for ours, theirs in zip(mixed["buckets"], raw["buckets"]):
        yield ours, theirs
        for region, figures in ours["regions"].items():
            yield figures, theirs["regions"][region]


def test_rebuilding_an_hour_writes_its_figures(monitor):
    values = [0.5, 3.0, 3.1, 250.0, 130_000.0]
    add_results(monitor, DAY0, 5, response=lambda i: values[i])
    add_results(monitor, DAY0 + 5 * M, 2, failing={1})
    add_results(monitor, DAY0 + 10 * M, 3, in_maintenance=True, failing={0})
    add_results(monitor, DAY0 + H, 1)               # the next hour: not this one's
    assert statistics.rebuild_hour(DAY0 + 20 * M) == 1
    row = ResultHourly.get()
    figures = [DAY0, 7, 1, 3, 6, round(1000 * (sum(values) + 100.0)), 500, 130_000_000,
               round(1000 * histogram.exact(sorted(values + [100.0]))),
               histogram.of_values(values + [100.0])]
    assert [row.hour, *(getattr(row, name) for name in REGION_FIGURES)] == figures
    assert row.regions == {"eu": figures[1:]}          # its only region: the same figures


def test_rebuilding_an_hour_twice_writes_the_same_rows_and_takes_in_late_results(monitor):
    add_results(monitor, DAY0, 60)
    add_results(monitor, DAY0, 60, region="us")
    assert statistics.rebuild_hour(DAY0) == 1
    first = sorted(ResultHourly.select().tuples())
    assert statistics.rebuild_hour(DAY0) == 1
    assert sorted(ResultHourly.select().tuples()) == first
    late = DAY0 + 30 * M + dt.timedelta(seconds=5)
    CheckResult.create(monitor=monitor.id, region="us", due_at=late, checked_at=late,
                       ok=False)
    statistics.rebuild_hour(DAY0)
    row = ResultHourly.get()
    assert row.regions["us"][:2] == [61, 1] and row.regions["eu"][:2] == [60, 0]
    assert (row.checks, row.failures) == (121, 1)
    assert ResultHourly.select().count() == 1


def test_rebuilding_an_hour_for_some_monitors_leaves_the_others(service, monitor):
    other = new_monitor(service)
    add_results(monitor, DAY0, 10)
    add_results(other, DAY0, 10)
    assert statistics.rebuild_hour(DAY0, monitor_ids=[other.id]) == 1
    assert [row.monitor_id for row in ResultHourly.select()] == [other.id]


def test_rollup_due_rolls_up_every_hour_once_then_the_last_hours_again(monitor):
    add_results(monitor, NOW - 6 * H, 6 * 60 + 10)     # until 10 minutes into the current hour
    assert statistics.rollup_due(now=NOW + 5 * M) == 6      # the first run: all hours
    assert ResultHourly.select().where(ResultHourly.hour >= NOW).count() == 0
    CheckResult.create(monitor=monitor.id, region="us", due_at=NOW - 2 * H,
                       checked_at=NOW - 2 * H, ok=True)
    assert statistics.rollup_due(now=NOW + 10 * M, lookback_hours=3) == 3
    assert [row.hour for row in ResultHourly.select() if "us" in row.regions] == [NOW - 2 * H]
    assert statistics.rollup_due(now=NOW + H + 10 * M, lookback_hours=3) == 3
    assert ResultHourly.select().count() == 7


def test_rollup_due_catches_up_on_hours_missed_while_it_did_not_run(monitor):
    statistics.rollup_due(now=NOW - 10 * H)
    add_results(monitor, NOW - 10 * H, 10 * 60)
    assert statistics.rollup_due(now=NOW, lookback_hours=3) == 10


def test_a_rolled_up_hour_is_kept_rendered_as_the_report_shapes_its_bucket(service):
    monitor = new_monitor(service, regions=("eu", "us", "ap"))
    draw = random.Random(3)
    # 128 checks with 3 failures: 97.65625 %, a tie at 4 decimals (rounded half up)
    add_results(monitor, DAY0, 128, every=dt.timedelta(seconds=28), failing={5, 50, 99},
                response=lambda i: round(draw.lognormvariate(math.log(180), 0.7), 3))
    add_results(monitor, DAY0, 7, region="us", every=7 * M, failing={2},
                response=lambda i: 0.001 * (i + 1))
    add_results(monitor, DAY0, 3, region="ap", failing={0, 1, 2})      # no response at all
    statistics.rebuild_hour(DAY0)
    row = ResultHourly.get()
    text, names = reading.rendered_hour([getattr(row, name) for name in REGION_FIGURES],
                                        row.regions)
    # on Postgres the rebuild renders in SQL: the same JSON values as here
    assert (orjson.loads(row.rendered), row.rendered_regions) == (orjson.loads(text), names)
    bucket = report(monitor, DAY0, DAY0 + H, interval="hour")["buckets"][0]
    raw = report(monitor, DAY0, DAY0 + H, interval="hour", use_rollups=False)["buckets"][0]
    assert names == "ap,eu,us" and bucket["regions"]["eu"]["uptime_percent"] == 97.6563
    # the same figures as raw results give (averages summed in another order, times kept to
    # the microsecond)
    assert _close(bucket, raw)


def _close(ours, theirs) -> bool:
    """The same JSON values, numbers to a relative 1e-9 or half a microsecond."""
    if isinstance(ours, dict):
        return ours.keys() == theirs.keys() and all(_close(ours[k], theirs[k]) for k in ours)
    if isinstance(ours, list):
        return len(ours) == len(theirs) and all(map(_close, ours, theirs))
    if isinstance(ours, float) or isinstance(theirs, float):
        return ours == pytest.approx(theirs, rel=1e-9, abs=0.0005)
    return ours == theirs


def test_a_report_fills_in_regions_a_rendered_hour_does_not_name(service):
    monitor = new_monitor(service, regions=("eu",))
    add_results(monitor, DAY0, 60)
    rebuild(DAY0, 1)
    Monitor.update(regions=["eu", "us"]).where(Monitor.id == monitor.id).execute()
    bucket = report(Monitor.get_by_id(monitor.id), DAY0, DAY0 + H, interval="hour")["buckets"][0]
    assert list(bucket["regions"]) == ["eu", "us"] and bucket["regions"]["eu"]["checks"] == 60
    assert bucket["regions"]["us"] == {"checks": 0, "failures": 0, "uptime_percent": None,
                                       "response_ms": dict.fromkeys(("avg", "min", "max", "p95"))}


def _three_days(service):
    monitor = new_monitor(service, regions=("eu", "us"))
    draw = random.Random(11)
    for region in ("eu", "us"):
        add_results(monitor, DAY0, 3 * 24 * 12, region=region, every=5 * M,
                    failing=set(range(7, 864, 41)),
                    response=lambda i: round(draw.lognormvariate(math.log(120), 0.8), 3))
    return monitor


def test_completed_days_are_summed_once_their_hours_are_final(service):
    _three_days(service)
    # the first run rolls up every hour, then sums the days whose hours are final: the three
    # ending by 3 hours before
    statistics.rollup_due(now=NOW + 3 * H + 5 * M, lookback_hours=3)
    assert [row.day for row in ResultDaily.select().order_by(ResultDaily.day)] == [
        DAY0, DAY0 + dt.timedelta(days=1), DAY0 + dt.timedelta(days=2)]
    day = ResultDaily.get(ResultDaily.day == DAY0)
    hours = ResultHourly.select().where(ResultHourly.hour < DAY0 + dt.timedelta(days=1))
    assert day.regions == {region: reading.summed([hour.regions[region] for hour in hours])
                           for region in ("eu", "us")}
    assert day.overall == reading.summed([[getattr(hour, name) for name in REGION_FIGURES]
                                          for hour in hours])
    day.regions["eu"][0] = 99_999
    day.save()
    statistics.rollup_due(now=NOW + 3 * H + 10 * M, lookback_hours=3)       # not again
    assert ResultDaily.get(ResultDaily.day == DAY0).regions["eu"][0] == 99_999


@pytest.mark.parametrize("interval", ["hour", "day", "week"])
def test_a_report_reads_the_days_inside_it_as_their_hours_would_answer(service, interval):
    monitor = _three_days(service)
    rebuild(DAY0, 72)
    # 2 days and 19 hours (the days in 3 buckets, then 2 and 1), 3 days
    ranges = [(DAY0 + 5 * H, NOW), (DAY0, NOW)]
    hourly = [report(monitor, start, end, interval=interval) for start, end in ranges]
    for day in range(3):
        statistics.rebuild_day(DAY0 + day * dt.timedelta(days=1))
    # the days' sums are the hours' sums: the same figures (averages of buckets of several
    # hours summed in another order)
    assert _close([report(monitor, start, end, interval=interval) for start, end in ranges],
                  hourly)
    second = ResultDaily.get(ResultDaily.day == DAY0 + dt.timedelta(days=1))
    second.regions["us"][0] += 1000
    second.save()
    counted = report(monitor, *ranges[0], interval=interval)["regions"]["us"]["checks"]
    assert counted == hourly[0]["regions"]["us"]["checks"] + 1000
    # days with a gap between them answer for nothing: the hours answer it all
    second.delete_instance()
    assert _close(report(monitor, *ranges[1], interval=interval), hourly[1])


@pytest.mark.parametrize("chunk", [3, 50_000])
def test_purging_deletes_whole_old_hours_of_results_chunk_by_chunk(service, monitor, chunk):
    other = new_monitor(service)
    for each in (monitor, other):
        add_results(each, NOW - dt.timedelta(days=31), 11, every=dt.timedelta(hours=2))
    add_results(monitor, NOW - dt.timedelta(days=30) - 30 * M, 60)   # in the cutoff's hour
    rebuild(NOW - dt.timedelta(days=31), 25)        # 23 hours before the cutoff, 1 after
    assert statistics.purge_results(now=NOW, retention_days=30, chunk=chunk) == 22 + 30
    assert CheckResult.select().count() == 30
    assert CheckResult.select().where(
        CheckResult.due_at < NOW - dt.timedelta(days=30)).count() == 0
    for day in (NOW - dt.timedelta(days=31), NOW - dt.timedelta(days=30)):
        statistics.rebuild_day(day)
    # the day before the cutoff goes with its hours (both monitors'), the day after stays
    assert statistics.purge_rollups(now=NOW, retention_days=30, chunk=chunk) == 23 + 2
    assert ResultHourly.select().count() == 1
    assert [row.day for row in ResultDaily.select()] == [NOW - dt.timedelta(days=30)]


def test_raw_results_are_kept_as_long_as_the_organisations_plan_says(settings, service,
                                                                     monitor):
    from models.organisations import Organisation
    paying = new_monitor(make_service(first_team(make_customer(settings))))
    Organisation.update(plan="team", plan_version="v1").where(     # 180 days
        Organisation.id == paying.service.team.organisation_id).execute()
    for each in (monitor, paying):                  # the session's plan: self-hosted, no limit
        add_results(each, NOW - dt.timedelta(days=100), 5)

    assert statistics.purge_results(now=NOW, retention_days=30) == 5
    assert [r.monitor_id for r in CheckResult.select()] == [paying.id] * 5
    Organisation.update(plan="free").where(                          # 30 days
        Organisation.id == paying.service.team.organisation_id).execute()
    assert statistics.purge_results(now=NOW, retention_days=400) == 5


def test_purging_nothing_old_deletes_nothing(monitor):
    add_results(monitor, NOW - H, 30)
    assert statistics.purge_results(now=NOW, retention_days=30) == 0
    assert statistics.purge_rollups(now=NOW, retention_days=400) == 0


# -- histograms ----------------------------------------------------------------------------

@pytest.mark.parametrize("response_ms, slot", [
    (0.0, 0), (0.99, 0), (1.0, 1), (histogram.RATIO * 1.0001, 2), (119_999.0, 80),
    (120_000.0, 81), (1e9, 81)])
def test_response_times_fall_in_log_spaced_buckets(response_ms, slot):
    assert histogram.slot_of(response_ms) == slot
    assert histogram.EDGES[slot] <= response_ms < histogram.EDGES[slot + 1]


@pytest.mark.parametrize("values", [
    [42.0], [5.0, 5.0, 5.0], list(range(1, 101)), [1.5] * 90 + [9000.0] * 10,
    [random.Random(1).lognormvariate(5, 1.5) for _ in range(5000)],
    [random.Random(2).uniform(1, 120_000) for _ in range(999)]])
def test_a_percentile_read_from_a_histogram_is_within_one_bucket_of_the_exact_one(values):
    ordered = sorted(values)
    exact = histogram.exact(ordered)
    halves = [histogram.of_values(ordered[::2]), histogram.of_values(ordered[1::2])]
    estimate = histogram.estimate(histogram.merge(halves), ordered[0], ordered[-1])
    assert abs(estimate - exact) <= exact * P95_ERROR
    assert histogram.merge(halves) == histogram.of_values(ordered)


# -- state history ---------------------------------------------------------------------------

def test_the_state_history_lists_overall_and_region_changes_newest_first(service):
    monitor = new_monitor(service, maintenance_cron_expression="0 3 * * *",
                          maintenance_duration=60)
    change(monitor, DAY0 + H, "down", region="eu", cause="HTTP 503")
    change(monitor, DAY0 + H, "down", cause="HTTP 503", regions_down=["eu"])
    change(monitor, DAY0 + 2 * H, "up", "down", region="eu")
    change(monitor, DAY0 + 3 * H + 5 * M, "down", region="us", cause="timeout")
    change(new_monitor(service), DAY0 + H, "down")                  # another monitor's
    entries = statistics.state_history(monitor)
    assert [(e["region"], e["to_status"], e["changed_at"]) for e in entries] == [
        ("us", "down", "2026-06-01T03:05:00Z"), ("eu", "up", "2026-06-01T02:00:00Z"),
        (None, "down", "2026-06-01T01:00:00Z"), ("eu", "down", "2026-06-01T01:00:00Z")]
    assert [e["silenced"] for e in entries] == [True, False, False, False]
    assert set(entries[0]) == {"id", "region", "from_status", "to_status", "cause",
                               "regions_down", "silenced", "changed_at"}
    assert (entries[2]["cause"], entries[2]["regions_down"]) == ("HTTP 503", ["eu"])


def test_the_state_history_keeps_to_the_range_and_the_limit(monitor):
    for hour in range(6):
        change(monitor, DAY0 + hour * H, "down" if hour % 2 else "up")
    entries = statistics.state_history(monitor, start=DAY0 + H, end=DAY0 + 5 * H, limit=3)
    assert [e["changed_at"] for e in entries] == [
        "2026-06-01T04:00:00Z", "2026-06-01T03:00:00Z", "2026-06-01T02:00:00Z"]
    with pytest.raises(Invalid):
        statistics.state_history(monitor, limit=0)
