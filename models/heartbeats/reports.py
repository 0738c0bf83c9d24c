"""What the API tells about a heartbeat's past: its events (81) and its statistics (80)."""
from __future__ import annotations

import datetime as dt
import math

import peewee

from models.clock import isoformat
from models.heartbeats.tables import RESULTS, HeartbeatEvent
from models.state_changes import time_in_states

WINDOWS = {"1h": dt.timedelta(hours=1), "3h": dt.timedelta(hours=3),
           "12h": dt.timedelta(hours=12), "1d": dt.timedelta(days=1),
           "3d": dt.timedelta(days=3), "7d": dt.timedelta(days=7),
           "30d": dt.timedelta(days=30)}


def events(heartbeat, *, limit: int, before: dt.datetime | None = None) -> list[dict]:
    """The newest `limit` events received before `before` (a page's last `received_at`)."""
    query = HeartbeatEvent.select().where(HeartbeatEvent.heartbeat == heartbeat.id)
    if before is not None:
        query = query.where(HeartbeatEvent.received_at < before)
    query = query.order_by(HeartbeatEvent.received_at.desc(), HeartbeatEvent.key.desc())
    return [_event_out(e) for e in query.limit(limit)]


def statistics(heartbeat, *, interval: str, start: dt.datetime | None,
               end: dt.datetime | None, now: dt.datetime) -> dict:
    """Over [start, end) (default: the `interval` up to now): time up and down, uptime %,
    events by result, and the durations of the runs that completed."""
    end = min(end or now, now)
    start = start or end - WINDOWS[interval]
    [(up, down)] = time_in_states("heartbeat", heartbeat.id, [(start, end)])
    counts = dict(HeartbeatEvent.select(HeartbeatEvent.result, peewee.fn.COUNT(HeartbeatEvent.key))
                  .where(*_in_window(heartbeat, start, end))
                  .group_by(HeartbeatEvent.result).tuples())
    durations = sorted(d for (d,) in HeartbeatEvent.select(HeartbeatEvent.duration_seconds)
                       .where(*_in_window(heartbeat, start, end),
                              HeartbeatEvent.duration_seconds.is_null(False)).tuples())
    return {
        "heartbeat_id": str(heartbeat.id), "interval": interval,
        "start_date": isoformat(start), "end_date": isoformat(end), "status": heartbeat.status,
        "up_seconds": round(up, 3), "down_seconds": round(down, 3),
        "uptime": round(100 * up / (up + down), 4) if up + down else None,
        "events": sum(counts.values()),
        "counts": {result: counts.get(result, 0) for result in RESULTS},
        "runs": _runs(durations),
    }


def _runs(durations: list[float]) -> dict:
    if not durations:
        return {"count": 0, "avg_seconds": None, "p95_seconds": None, "max_seconds": None}
    rank = max(0, math.ceil(0.95 * len(durations)) - 1)      # nearest-rank p95
    return {"count": len(durations), "avg_seconds": round(sum(durations) / len(durations), 3),
            "p95_seconds": round(durations[rank], 3), "max_seconds": round(durations[-1], 3)}


def _in_window(heartbeat, start, end) -> list:
    return [HeartbeatEvent.heartbeat == heartbeat.id, HeartbeatEvent.received_at >= start,
            HeartbeatEvent.received_at < end]


def _event_out(event: HeartbeatEvent) -> dict:
    return {"id": event.key, "result": event.result, "message": event.message,
            "received_at": isoformat(event.received_at), "ip": event.ip,
            "method": event.method, "user_agent": event.user_agent,
            "duration_seconds": event.duration_seconds}
