"""Storing signals and applying them to their heartbeats, in batches: one transaction per
batch, one COPY for its events. A signal stored before (same key) changes nothing, so the
same batch may be stored twice; signals for deleted heartbeats are dropped."""
from __future__ import annotations

import datetime as dt

import peewee

from models import copytext, state_changes
from models.db import copy_in, copy_update, database, insert_rows, is_postgres, serialized
from models.heartbeats import packing, signals as rules
from models.heartbeats.expectations import arm
from models.heartbeats.tables import Heartbeat, HeartbeatEvent

_EVENT_FIELDS = [HeartbeatEvent._meta.columns[name] for name in packing.COLUMNS]
_RULE_FIELDS = ("interval_seconds", "schedule", "timezone", "grace_seconds", "max_run_seconds")
_STATE_FIELDS = ("status", "status_changed_at", "last_signal_at", "last_result",
                 "run_started_at", "deadline_at", "deadline_cause", "sweep_at")
_INSTANTS = ("status_changed_at", "last_signal_at", "run_started_at", "deadline_at", "sweep_at")


def store(signals: list[rules.Signal], *, now) -> int:
    """Stores the signals and applies the new ones in the order they were received; answers
    how many were new."""
    if not signals:
        return 0
    with serialized():      # SQLite: write-locked from BEGIN, as the batch reads then writes
        heartbeats = _current_states(sorted({s.heartbeat_id for s in signals}))
        wanted = [s for s in signals if s.heartbeat_id in heartbeats]
        new = _insert_events(wanted)
        fresh = sorted((s for s in wanted if new is None or s.key in new),
                       key=lambda s: s.received_at)
        changed: dict[str, HeartbeatState] = {}
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
            arm(heartbeat)
        save_states(list(changed.values()))
    return len(fresh)


def _insert_events(signals: list[rules.Signal]) -> set[str] | None:
    """The events' rows; answers the keys of those not stored before, None when that is all
    of them. On Postgres, signals from the stream go to COPY as the gateway packed them."""
    if not signals:
        return set()
    if is_postgres():
        text = b"".join((s.packed or packing.pack(s)) + b"\n" for s in signals)
        new = copy_in(HeartbeatEvent, _EVENT_FIELDS, text, returning=(HeartbeatEvent.key,))
    else:
        rows = [(s.key, s.heartbeat_id, s.result, s.message, s.received_at, s.ip, s.method,
                 s.user_agent) for s in signals]
        new = insert_rows(HeartbeatEvent, _EVENT_FIELDS, rows, returning=(HeartbeatEvent.key,))
    return None if new is None else {key for (key,) in new}


class HeartbeatState:
    """What signals change, and what decides how: a row of `heartbeat` without a model
    instance's cost (a batch reads thousands of them)."""
    __slots__ = ("id",) + _RULE_FIELDS + _STATE_FIELDS

    def __init__(self, row: tuple):
        for name, value in zip(self.__slots__, row):
            setattr(self, name, value)

    @classmethod
    def from_driver(cls, row: tuple) -> "HeartbeatState":
        """From a row as psycopg2 reads it: instants come naive (UTC)."""
        values = list(row)
        for index in _INSTANT_INDEXES:
            if values[index] is not None:
                values[index] = values[index].replace(tzinfo=_UTC)
        return cls(values)


_INSTANT_INDEXES = [HeartbeatState.__slots__.index(name) for name in _INSTANTS]
_UTC = dt.timezone.utc


def _current_states(ids: list[str]) -> dict[str, HeartbeatState]:
    """The heartbeats' current states, their rows locked until the batch commits (in id
    order, so two flushers never wait on each other in a circle)."""
    columns = [getattr(Heartbeat, name) for name in HeartbeatState.__slots__]
    if not is_postgres():
        query = Heartbeat.select(*columns).where(Heartbeat.id.in_(ids)).order_by(Heartbeat.id)
        return {str(row[0]): HeartbeatState(row) for row in query.tuples()}
    # one array parameter rather than thousands to render; rows as the driver reads them,
    # the id as text (a UUID made and turned back into text costs more than the rest)
    query = (Heartbeat.select(peewee.Cast(Heartbeat.id, "text"), *columns[1:])
             .where(Heartbeat.id == peewee.fn.ANY(peewee.SQL("%s::uuid[]", [ids])))
             .order_by(Heartbeat.id).for_update())
    return {str(row[0]): HeartbeatState.from_driver(row) for row in database.execute(query)}


def save_states(heartbeats: list) -> None:
    """Writes the heartbeats' state fields: on Postgres through COPY and one UPDATE, since a
    batch of signals often touches thousands of heartbeats."""
    if not is_postgres():
        for heartbeat in heartbeats:
            save_state(heartbeat)
        return
    fields = [Heartbeat.id] + [getattr(Heartbeat, name) for name in _STATE_FIELDS]
    copy_update(Heartbeat, fields, b"".join(_state_line(h) for h in heartbeats))


def _state_line(heartbeat) -> bytes:
    """The id and state fields of a heartbeat as a line of COPY text, without a field's
    conversion cost (thousands of rows a batch). Statuses, results and causes are words of
    our own and instants are written as digits: nothing here needs escaping."""
    return ("\t".join([str(heartbeat.id)] + [write(getattr(heartbeat, name))
                                             for name, write in _WRITERS]) + "\n").encode()


def _word(value: str | None) -> str:
    return copytext.NULL if value is None else value


_WRITERS = [(name, copytext.instant if name in _INSTANTS else _word) for name in _STATE_FIELDS]


def save_state(heartbeat, **only_if) -> int:
    query = Heartbeat.update({name: getattr(heartbeat, name) for name in _STATE_FIELDS})
    query = query.where(Heartbeat.id == heartbeat.id,
                        *[getattr(Heartbeat, name) == value for name, value in only_if.items()])
    return query.execute()


def _record_change(heartbeat, outcome, *, trigger: str, at, now) -> None:
    state_changes.record("heartbeat", heartbeat.id, from_status=outcome.from_status,
                         to_status=outcome.to_status, cause=outcome.cause, at=at,
                         trigger=trigger, now=now)
