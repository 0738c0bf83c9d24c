"""Reading server metrics back (endpoint 73): raw points newest first, or minute, hour or day
buckets with each value's average and maximum.

Buckets are computed here from the raw readings of the range, which the primary key
(server, type, at) finds; the range each interval may span is bounded so that one query reads
at most a few hundred thousand rows (a day of 10-second readings per minute bucket query is
8,640 per type).
"""
from __future__ import annotations

import datetime as dt

from models.errors import Invalid
from models.servers.tables import Server, ServerMetric
from models.statistics.intervals import floor

TYPES = ("cpu-total-usage", "memory-usage", "disk-io-unified", "disk-usage-unified",
         "system-load-unified", "swap-usage", "network-usage-unified")
INTERVALS = ("on-demand", "minute", "hour", "day")
# the range an interval may span, and the range it covers by default (ending now)
LONGEST = {"on-demand": dt.timedelta(days=31), "minute": dt.timedelta(days=2),
           "hour": dt.timedelta(days=31), "day": dt.timedelta(days=366)}
DEFAULT_RANGE = {"on-demand": dt.timedelta(hours=1), "minute": dt.timedelta(hours=1),
                 "hour": dt.timedelta(days=1), "day": dt.timedelta(days=30)}


def metrics(server: Server, *, types: tuple[str, ...], interval: str, start, end, limit: int,
            now) -> dict:
    """{type: [points]} for each of `types` over [start, end): raw points (`at`, `values`),
    newest first, at most `limit`; or buckets (`at` = bucket start, `count`, and per value
    `{avg, max}`), oldest first, only those holding readings, the newest `limit` of them."""
    end = end or now
    start = start or end - DEFAULT_RANGE[interval]
    if end <= start:
        raise Invalid("start_date must be before end_date.",
                      fields={"start_date": "not before end_date"})
    if end - start > LONGEST[interval]:
        raise Invalid(f"An {interval} query spans at most {LONGEST[interval].days} days; "
                      "choose a later start_date or a longer interval.",
                      fields={"start_date": "range too long for this interval"})
    found = {}
    for kind in types:
        query = (ServerMetric.select(ServerMetric.at, ServerMetric.data)
                 .where(ServerMetric.server == server, ServerMetric.type == kind,
                        ServerMetric.at >= start, ServerMetric.at < end))
        if interval == "on-demand":
            rows = query.order_by(ServerMetric.at.desc()).limit(limit).tuples()
            found[kind] = [{"at": at, "values": values} for at, values in rows]
        else:
            found[kind] = buckets(query.order_by(ServerMetric.at).tuples().iterator(),
                                  interval)[-limit:]
    return found


def buckets(rows, interval: str) -> list[dict]:
    """Folds (at, values) rows in time order into `interval` buckets, each value's average and
    maximum over the readings that carry it."""
    result: list[dict] = []
    current, sums, highs, counts = None, {}, {}, {}
    for at, values in rows:
        start = floor(at, interval)
        if start != current:
            if current is not None:
                result.append(_bucket(current, sums, highs, counts))
            current, sums, highs, counts = start, {}, {}, {}
        for name, value in values.items():
            sums[name] = sums.get(name, 0.0) + value
            highs[name] = max(highs.get(name, value), value)
            counts[name] = counts.get(name, 0) + 1
    if current is not None:
        result.append(_bucket(current, sums, highs, counts))
    return result


def _bucket(start, sums, highs, counts) -> dict:
    return {"at": start, "count": max(counts.values(), default=0),
            "values": {name: {"avg": sums[name] / counts[name], "max": highs[name]}
                       for name in sums}}


def purge_readings(*, now, retention_days: int) -> int:
    """Deletes readings older than `retention_days`, server by server and type by type, so
    each statement is one range of the primary key. Answers how many were deleted."""
    cutoff = now - dt.timedelta(days=retention_days)
    deleted = 0
    for (server_id,) in Server.select(Server.id).tuples():
        for kind in TYPES:
            deleted += ServerMetric.delete().where(ServerMetric.server == server_id,
                                                   ServerMetric.type == kind,
                                                   ServerMetric.at < cutoff).execute()
    return deleted
