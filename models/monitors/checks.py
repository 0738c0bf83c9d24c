"""What a worker needs to run a batch of checks: the monitors (cached by version) and the
judgement of a probe's facts against the monitor's type and conditions."""
from __future__ import annotations

import uuid
from typing import Callable

from models import conditions
from models.errors import Invalid
from models.monitors.tables import Monitor

DEFAULT_OK_STATUS = range(200, 400)
MIN_BUDGET_SECONDS = 0.5     # a request that took the whole timeout still gets its conditions


class MonitorCache:
    """Monitors by id, reloaded when a check names a newer version (a change takes effect at
    the monitor's next check without any restart). Per worker process."""

    def __init__(self):
        self._monitors: dict[uuid.UUID, Monitor] = {}
        self._conditions: dict[uuid.UUID, list] = {}
        self._requests: dict[uuid.UUID, dict] = {}

    def get(self, entries: list) -> dict:
        """{monitor_id: Monitor} for the enabled monitors among `entries` [(id, version)]."""
        wanted = {uuid.UUID(str(monitor_id)): version for monitor_id, version in entries}
        stale = [i for i, v in wanted.items()
                 if i not in self._monitors or self._monitors[i].version < v]
        if stale:
            found = {m.id: m for m in Monitor.select().where(Monitor.id.in_(stale))}
            for monitor_id in stale:
                self._requests.pop(monitor_id, None)
                monitor = found.get(monitor_id)
                if monitor is None:      # deleted since the check was scheduled
                    self._monitors.pop(monitor_id, None)
                    continue
                self._monitors[monitor_id] = monitor
                try:
                    self._conditions[monitor_id] = conditions.parse(monitor.conditions)
                except Invalid as exc:    # stored before a limit it breaks: its checks fail
                    self._conditions[monitor_id] = exc
        return {i: self._monitors[i] for i in wanted
                if i in self._monitors and self._monitors[i].enabled}

    def conditions_of(self, monitor: Monitor) -> list:
        """The monitor's parsed conditions; raises `Invalid` for conditions that can no
        longer be used (that check fails with it)."""
        found = self._conditions.get(monitor.id, [])
        if isinstance(found, Invalid):
            raise found
        return found


    def request_of(self, monitor: Monitor, key, make: Callable):
        """`make()`, kept for `monitor` under `key` until the monitor changes: its probe's
        request is the same at every check (and building one costs as much as recording the
        check's result)."""
        kept = self._requests.setdefault(monitor.id, {})
        found = kept.get(key)
        if found is None:
            found = kept[key] = make()
        return found


def response_needs(monitor: Monitor, parsed_conditions: list) -> set[str]:
    """What of the response judging this monitor reads: its "headers", its "body" (most
    monitors need neither, and not collecting them is most of a probe's Python work)."""
    kinds = {c.type for c in parsed_conditions}
    needs = set()
    if "header" in kinds:
        needs.add("headers")
    if monitor.type == "keyword" or kinds & {"body", "json"}:
        needs.add("body")
    return needs


def judge(monitor: Monitor, probe, parsed_conditions: list) -> str | None:
    """None if the check passed, else why not. A probe that failed (no answer, refused,
    invalid certificate) fails the check; an HTTP answer must be 2xx/3xx unless a status-code
    condition says otherwise; a keyword monitor's body must contain its keyword."""
    if not probe.ok:
        return probe.error or "failed"
    if monitor.type not in ("http", "keyword"):
        return None
    response = conditions.Response(probe.status_code, probe.response_ms, probe.headers or {},
                                   probe.body or b"")
    checks_status = any(c.type == "status_code" for c in parsed_conditions)
    if not checks_status and probe.status_code not in DEFAULT_OK_STATUS:
        return f"HTTP {probe.status_code}"
    if monitor.type == "http" and not parsed_conditions:
        return None                  # most monitors: nothing more to judge
    if monitor.type == "keyword" and monitor.data not in response.text():
        return f"keyword {monitor.data!r} not found"
    spent = (probe.response_ms or 0) / 1000
    return conditions.evaluate(parsed_conditions, response,
                               budget_seconds=max(MIN_BUDGET_SECONDS,
                                                  monitor.timeout_seconds - spent))
