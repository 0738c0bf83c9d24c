"""The scheduler's sweep: heartbeats whose deadline has passed go down. It reads the
`deadline_at` index from its oldest entry, so its cost follows the heartbeats due, not the
heartbeats kept."""
from __future__ import annotations

from models import incidents
from models.db import database
from models.heartbeats import ingest, signals
from models.heartbeats.tables import Heartbeat


def mark_overdue(*, now, limit: int = 500) -> int:
    """Takes down every heartbeat past its deadline; answers how many went down. A signal
    that moved the deadline meanwhile wins: the update only applies to the deadline read."""
    went_down = 0
    due = list(Heartbeat.select().where(Heartbeat.deadline_at <= now)
               .order_by(Heartbeat.deadline_at).limit(limit))
    for heartbeat in due:
        deadline, before = heartbeat.deadline_at, heartbeat.status
        cause = signals.overdue_cause(heartbeat)
        heartbeat.deadline_at = heartbeat.deadline_cause = None
        if before != "down":
            heartbeat.status, heartbeat.status_changed_at = "down", deadline
        with database.atomic():
            if not ingest.save_state(heartbeat, deadline_at=deadline):
                continue
            if before != "down":
                incidents.record_change("heartbeat", heartbeat.id, from_status=before,
                                        to_status="down", cause=cause, at=deadline,
                                        trigger=f"deadline:{deadline.isoformat()}", now=now)
                went_down += 1
    return went_down
