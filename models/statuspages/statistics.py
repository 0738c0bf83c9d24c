"""A component's statistics (endpoint 105): the status it shows and since when, its subject's
uptime per day over the last 90 days, and the open incidents that name it."""
from __future__ import annotations

import datetime as dt

from models.clock import isoformat
from models.heartbeats.tables import Heartbeat
from models.incidents.tables import Incident
from models.monitors.tables import Monitor
from models.servers.tables import Server
from models.state_changes import time_in_states
from models.statistics.report import performance_report
from models.statuspages import status

DAYS = 90
_DAY = dt.timedelta(days=1)


def component_statistics(component, *, now: dt.datetime) -> dict:
    """What `GET /v1/component/{id}/statistics` answers. `duration_seconds` is the time the
    component has shown its status (since the reason for it began, where known: the subject's
    last change, the incident's opening; else since the component was created). Days before
    the subject existed, and every day of a manual component, have no uptime (null)."""
    shown = status.status_of(component, now=now)
    first = dt.datetime.combine(now.date() - dt.timedelta(days=DAYS - 1), dt.time(),
                                tzinfo=dt.timezone.utc)
    incidents = list(Incident.select().where(Incident.id.in_(list(shown.incident_ids)))
                     .order_by(Incident.created_at)) if shown.incident_ids else []
    return {
        "component_id": str(component.id), "name": component.name, "type": component.type,
        "status": shown.status, "status_since": isoformat(shown.since),
        "duration_seconds": round((now - shown.since).total_seconds()) if shown.since else None,
        "uptime": daily_uptime(component, first, now),
        "open_incidents": [{"id": str(i.id), "name": i.name, "urgency": i.urgency,
                            "status": i.status, "created_at": isoformat(i.created_at)}
                           for i in incidents],
    }


def daily_uptime(component, first: dt.datetime, now: dt.datetime) -> list[dict]:
    days = [first + n * _DAY for n in range(DAYS)]
    percent: list = [None] * DAYS
    subject = component.subject_id
    if component.type == "resource" and subject is not None:
        monitor = Monitor.get_or_none(Monitor.id == subject)
        if monitor is not None:
            # the monitors' own report: rollups for completed hours, raw results for the rest
            report = performance_report(monitor, start=first, end=days[-1] + _DAY,
                                        interval="day", now=now)
            percent = [bucket["uptime_percent"] for bucket in report["buckets"]][:DAYS]
    elif component.type in ("heartbeat", "server") and subject is not None:
        model = Heartbeat if component.type == "heartbeat" else Server
        if model.select().where(model.id == subject).exists():
            percent = _from_state_changes(component.type, subject, days, now)
    return [{"date": day.date().isoformat(), "uptime_percent": value}
            for day, value in zip(days, percent)]


def _from_state_changes(kind: str, subject_id, days: list, now) -> list:
    """Per day, the share of the time the subject was up or down that it was up (time in
    other states counts as neither)."""
    spent = time_in_states(kind, subject_id, [(start, min(start + _DAY, now)) for start in days])
    return [round(100 * up / (up + down), 4) if up + down else None for up, down in spent]
