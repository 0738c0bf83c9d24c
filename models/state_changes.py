"""State changes of what Pinghome watches, one record for all three subjects: an uptime monitor
(overall, `region` null, or in one of its regions), a heartbeat, a server.

A change is recorded once per trigger (the result, signal, deadline or report that decided it),
so a redelivered batch, flush or sweep records nothing twice. An overall change is handed to the
incident rules (`incidents.apply_rules`) once the recording commits; a change no rule run has
finished with a minute after it was recorded (the job lost with a broker outage, a worker
killed mid-run) is handed over again by the scheduler (`incidents.hand_over_unapplied`).
"""
from __future__ import annotations

import uuid
from typing import Callable

import peewee

from models import jobs
from models.db import JSONField, UtcDateTimeField, UUIDModel, insert_rows

SUBJECTS = ("monitor", "heartbeat", "server")
APPLY_RULES = "incidents.apply_rules"


class StateChange(UUIDModel):
    """Unique per (subject, region or none, trigger): an expression index of the migration,
    since a unique index holds NULL regions apart. A partial index on `recorded_at` of the
    changes no rule run finished with serves the scheduler's sweep."""
    subject_type = peewee.CharField(max_length=16)
    subject_id = peewee.UUIDField()
    region = peewee.CharField(max_length=64, null=True)
    from_status = peewee.CharField(max_length=16)
    to_status = peewee.CharField(max_length=16)
    cause = peewee.TextField(null=True)
    regions_down = JSONField(null=True)
    changed_at = UtcDateTimeField()                 # when it happened (the deciding event's time)
    trigger_key = peewee.CharField(max_length=128)
    recorded_at = UtcDateTimeField()
    rules_applied_at = UtcDateTimeField(null=True)  # when a rule run finished with it

    class Meta:
        indexes = ((("subject_type", "subject_id", "changed_at"), False),)


_FIELDS = [StateChange.id, StateChange.subject_type, StateChange.subject_id, StateChange.region,
           StateChange.from_status, StateChange.to_status, StateChange.cause,
           StateChange.regions_down, StateChange.changed_at, StateChange.trigger_key,
           StateChange.recorded_at]


def record(subject_type: str, subject_id, *, from_status: str, to_status: str, cause, at,
           trigger: str, now, region: str | None = None, regions_down=None) -> uuid.UUID | None:
    """Records one change (once per trigger) and, for an overall one, hands it to the incident
    rules once the recording commits; answers its id, or None if it was recorded before."""
    taken = record_many([(subject_type, subject_id, region, from_status, to_status, cause,
                          regions_down, at, trigger)], now=now)
    return taken[0] if taken else None


def record_many(changes: list[tuple], *, now) -> list[uuid.UUID]:
    """Records changes (subject_type, subject_id, region, from, to, cause, regions_down, at,
    trigger) in one statement, each once per trigger; hands the new overall ones over after
    commit and answers their ids."""
    if not changes:
        return []
    rows = [(uuid.uuid4(), kind, subject_id, region, before, after,
             cause if cause is None else cause[:2000], down, at,
             trigger[:StateChange.trigger_key.max_length], now)
            for kind, subject_id, region, before, after, cause, down, at, trigger in changes]
    taken = insert_rows(StateChange, _FIELDS, rows,
                        returning=(StateChange.id, StateChange.region))
    handed = [uuid.UUID(str(change_id)) for change_id, region in taken if region is None]
    if len(handed) == 1:
        jobs.defer(APPLY_RULES, str(handed[0]))
    elif handed:          # a batch that took many down at once: one job for all of them
        jobs.defer(APPLY_RULES, [str(change_id) for change_id in handed])
    return handed


# what else reacts to overall changes going down or up (a monitor's integrations): each
# listener(changes, now=...) runs in the rule run's transaction, once per batch with the
# changes the rules act on (a storm's thousands: a listener reads what it needs for all of
# them at once), so it is applied exactly when the changes are marked applied; it must be
# keyed by the change, as a failed run is run again
_listeners: list[Callable] = []


def on_change(listener: Callable) -> None:
    """Registers `listener(changes, now=...)` for overall changes (see `tell`)."""
    if listener not in _listeners:
        _listeners.append(listener)


def tell(changes: list[StateChange], *, now) -> None:
    """Hands the changes a rule run acts on (down and current, or up), in their order, to the
    listeners."""
    if changes:
        for listener in _listeners:
            listener(changes, now=now)


def time_in_states(subject_type: str, subject_id,
                   windows: list[tuple]) -> list[tuple[float, float]]:
    """Seconds up and down in each window [start, end) (in order, not overlapping), walked
    from the subject's recorded changes in one query; time before its first change, or in
    any other state, counts as neither."""
    if not windows:
        return []
    changed = of_subject(subject_type, subject_id)
    first, last = windows[0][0], windows[-1][1]
    before = (changed.select(StateChange.to_status).where(StateChange.changed_at <= first)
              .order_by(StateChange.changed_at.desc()).tuples().first())
    changes = [(StateChange.changed_at.python_value(at), to) for to, at in (
        changed.select(StateChange.to_status, StateChange.changed_at)
        .where(StateChange.changed_at > first, StateChange.changed_at < last)
        .order_by(StateChange.changed_at).tuples())]
    state, found, index = (before[0] if before else None), [], 0
    for start, end in windows:
        spent, since = {"up": 0.0, "down": 0.0}, start
        while index < len(changes) and changes[index][0] < end:
            at, to_status = changes[index]
            if state in spent and at > since:
                spent[state] += (at - since).total_seconds()
            state, since, index = to_status, max(at, since), index + 1
        if state in spent and end > since:
            spent[state] += (end - since).total_seconds()
        found.append((spent["up"], spent["down"]))
    return found


def of_subject(subject_type: str, subject_id):
    """The query of one subject's changes."""
    return StateChange.select().where(StateChange.subject_type == subject_type,
                                      StateChange.subject_id == subject_id)
