"""Monitors for tests."""
from __future__ import annotations

import datetime as dt
import itertools

from models import clock
from models.monitors.recording import Outcome
from models.monitors.tables import Monitor

_numbers = itertools.count(1)
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)


def make_monitor(service, *, type: str = "http", regions=("local",), **overrides) -> Monitor:
    now = clock.now()
    fields = {"name": f"Monitor {next(_numbers)}", "type": type, "regions": list(regions),
              "url": "http://127.0.0.1:9/" if type in ("http", "keyword") else None,
              "host": "127.0.0.1", "interval_seconds": 60, "timeout_seconds": 5,
              "created_at": now, "updated_at": now, **overrides}
    return Monitor.create(service=service, **fields)


def outcome(monitor, seconds: float, ok: bool, *, error: str | None = None) -> Outcome:
    """A judged check of `monitor` due `seconds` after T0."""
    due = T0 + dt.timedelta(seconds=seconds)
    return Outcome(monitor_id=monitor.id, due_at=due, checked_at=due, ok=ok,
                   response_ms=12.0 if ok else None, error=None if ok else error or "HTTP 500")
