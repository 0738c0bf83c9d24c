"""The scheduler's sweep: heartbeats whose deadline has passed go down. It reads the
`sweep_at` index from its oldest entry, so its cost follows the heartbeats due, not the
heartbeats kept. A heartbeat's `sweep_at` is at or before its deadline (`expectations.arm`);
one the sweep reaches whose deadline has moved on since has `sweep_at` moved to it, a write
per deadline the sweep reaches rather than one per signal.

A signal is applied to its heartbeat a moment after the gateway answered (the flushers store
signals in batches): the sweep only takes down heartbeats whose deadline passed before every
signal received until then was stored (`settled_until`), else a signal that arrived in time
but still waits in the stream would show as a false down and up."""
from __future__ import annotations

import datetime as dt
import logging

import redis

from models import state_changes
from models.db import database
from models.heartbeats import ingest, signals
from models.heartbeats.tables import Heartbeat

log = logging.getLogger(__name__)

# from a signal's time of receipt to its write in the stream (the gateway's group commit)
IN_FLIGHT = dt.timedelta(seconds=1)

# with Redis unreachable, what the stream holds is unknown: before it went, flushers were
# storing every batch within a second or so, so signals older than this are taken as stored
BLIND = dt.timedelta(seconds=10)


def settled_until(now: dt.datetime, stream=None) -> dt.datetime:
    """The instant up to which every signal received is stored: `now`, or the time of the
    oldest entry still in the stream, less what may still be on its way into the stream."""
    if stream is None:
        return now - IN_FLIGHT
    try:
        oldest = stream.oldest_waiting()
    except redis.RedisError as exc:
        log.warning("heartbeat sweep: Redis unreachable (%s); signals older than %s s are "
                    "taken as stored", exc, BLIND.seconds)
        return now - BLIND
    return min(now, oldest or now) - IN_FLIGHT


def mark_overdue(*, now, settled=None, limit: int = 500) -> int:
    """Takes down every heartbeat whose deadline passed by `settled` (default `now`), up to
    `limit` of them; answers how many went down. A signal that moved the deadline meanwhile
    wins: the update only applies to the deadline read."""
    went_down, settled = 0, settled or now
    reached = Heartbeat.sweep_at <= settled
    (Heartbeat.update({Heartbeat.sweep_at: Heartbeat.deadline_at})
     .where(reached, Heartbeat.deadline_at.is_null() | (Heartbeat.deadline_at > settled))
     .execute())
    # a signal may have moved a deadline since: those wait for the next sweep
    due = list(Heartbeat.select().where(reached, Heartbeat.deadline_at <= settled)
               .order_by(Heartbeat.sweep_at).limit(limit))
    for heartbeat in due:
        deadline, before = heartbeat.deadline_at, heartbeat.status
        cause = signals.overdue_cause(heartbeat)
        heartbeat.deadline_at = heartbeat.deadline_cause = heartbeat.sweep_at = None
        if before != "down":
            heartbeat.status, heartbeat.status_changed_at = "down", deadline
        with database.atomic():
            if not ingest.save_state(heartbeat, deadline_at=deadline):
                continue
            if before != "down":
                state_changes.record("heartbeat", heartbeat.id, from_status=before,
                                     to_status="down", cause=cause, at=deadline,
                                     trigger=f"deadline:{deadline.isoformat()}", now=now)
                went_down += 1
    return went_down
