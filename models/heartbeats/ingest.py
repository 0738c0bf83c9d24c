"""Storing signals and applying them to their heartbeats, in batches: one transaction per
batch, one INSERT for its events. A signal stored before (same key) changes nothing, so the
same batch may be stored twice; signals for deleted heartbeats are dropped."""
from __future__ import annotations

import uuid

from models import incidents
from models.db import insert_rows, locked, serialized
from models.heartbeats import signals as rules
from models.heartbeats.tables import Heartbeat, HeartbeatEvent, HeartbeatStateChange

_EVENT_FIELDS = [HeartbeatEvent.key, HeartbeatEvent.heartbeat, HeartbeatEvent.result,
                 HeartbeatEvent.message, HeartbeatEvent.received_at, HeartbeatEvent.ip,
                 HeartbeatEvent.method, HeartbeatEvent.user_agent]
_STATE_FIELDS = ("status", "status_changed_at", "last_signal_at", "last_result",
                 "run_started_at", "deadline_at", "deadline_cause")


def store(signals: list[rules.Signal], *, now) -> int:
    """Stores the signals and applies the new ones in the order they were received; answers
    how many were new."""
    if not signals:
        return 0
    with serialized():      # SQLite: write-locked from BEGIN, as the batch reads then writes
        ids = sorted({s.heartbeat_id for s in signals})
        heartbeats = {str(h.id): h for h in
                      locked(Heartbeat.select().where(Heartbeat.id.in_(ids)).order_by(Heartbeat.id))}
        wanted = [s for s in signals if s.heartbeat_id in heartbeats]
        rows = [(s.key, s.heartbeat_id, s.result, s.message, s.received_at, s.ip, s.method,
                 s.user_agent) for s in wanted]
        new = {key for (key,) in insert_rows(HeartbeatEvent, _EVENT_FIELDS, rows,
                                             returning=(HeartbeatEvent.key,))}
        fresh = sorted((s for s in wanted if s.key in new), key=lambda s: s.received_at)
        changed: dict[str, Heartbeat] = {}
        for signal in fresh:
            heartbeat = heartbeats[signal.heartbeat_id]
            outcome = rules.apply(heartbeat, signal)
            changed[signal.heartbeat_id] = heartbeat
            if outcome.duration_seconds is not None:
                (HeartbeatEvent.update(duration_seconds=outcome.duration_seconds)
                 .where(HeartbeatEvent.key == signal.key).execute())
            if outcome.to_status:
                _record_change(heartbeat, outcome, trigger=signal.key, at=signal.received_at,
                               now=now)
        for heartbeat in changed.values():
            save_state(heartbeat)
    return len(fresh)


def save_state(heartbeat: Heartbeat, **only_if) -> int:
    query = Heartbeat.update({name: getattr(heartbeat, name) for name in _STATE_FIELDS})
    query = query.where(Heartbeat.id == heartbeat.id,
                        *[getattr(Heartbeat, name) == value for name, value in only_if.items()])
    return query.execute()


def _record_change(heartbeat, outcome, *, trigger: str, at, now) -> None:
    record_change(heartbeat, from_status=outcome.from_status, to_status=outcome.to_status,
                  cause=outcome.cause, trigger=trigger, at=at, now=now)


def record_change(heartbeat, *, from_status, to_status, cause, trigger: str, at, now) -> None:
    """Records the change (once per trigger) and hands it to the incident layer."""
    change_id = uuid.uuid4()
    taken = insert_rows(
        HeartbeatStateChange,
        [HeartbeatStateChange.id, HeartbeatStateChange.heartbeat, HeartbeatStateChange.from_status,
         HeartbeatStateChange.to_status, HeartbeatStateChange.cause,
         HeartbeatStateChange.changed_at, HeartbeatStateChange.trigger_key],
        [(change_id, heartbeat.id, from_status, to_status, cause, at, trigger[:64])],
        returning=(HeartbeatStateChange.id,))
    if taken:
        incidents.state_changed(change_id, now=now, subject="heartbeat")
