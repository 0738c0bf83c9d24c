"""What an incident's assignees are told, and when, planned as steps (`IncidentStep`): the
first notices when it opens, each escalation, reminders while it stays open, the notice of
its resolution. A step due now is handed to `escalations.run` once the plan commits; the
scheduler hands over the later ones when they fall due (and any whose job was lost).
`notices.run_step` carries a step out and plans what follows from it.
"""
from __future__ import annotations

import datetime as dt

from models import jobs
from models.db import insert_rows
from models.incidents.tables import IncidentStep

RUN_STEP = "escalations.run"
_FIELDS = [IncidentStep.incident, IncidentStep.key, IncidentStep.due_at, IncidentStep.data,
           IncidentStep.enqueued_at]


def opened_many(incidents, *, now) -> None:
    """Plans the first notice to every assignee of each incident, and its first reminder."""
    planned = []
    for incident in incidents:
        steps = [first_step(assignee, now=now) for assignee in incident.assignees]
        if incident.renotify_minutes:
            steps.append(("remind:1", now + dt.timedelta(minutes=incident.renotify_minutes),
                          {"reason": "reminder", "round": 1}))
        planned.extend((incident, *step) for step in steps)
    plan_many(planned, now=now)
    _tell(incidents, "opened", now=now)


def moved(incident, status: str, *, now) -> None:
    """A resolved incident tells everyone who was told of it; an acknowledged one plans
    nothing (its pending escalations find it acknowledged and stop)."""
    if status == "resolved":
        plan(incident, [("resolved", now, {"reason": "resolved"})], now=now)
    _tell([incident], "resolved" if status == "resolved" else "identified", now=now)


def updated(incident, *, now) -> None:
    """Its name, description, urgency or actions changed: only the listeners hear of it."""
    _tell([incident], "updated", now=now)


# who else hears of incidents opening and moving (the subscribers of the status pages whose
# components their trigger-alerts name): listener(incidents, event, now=...) with `event`
# one of opened, identified, updated, resolved, in the same transaction; it must be keyed by
# incident and event, as the operation may run again
_listeners: list = []


def on_event(listener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def _tell(incidents, event: str, *, now) -> None:
    if incidents:
        for listener in _listeners:
            listener(list(incidents), event, now=now)


def first_step(assignee: dict, *, now) -> tuple[str, dt.datetime, dict]:
    """A team's channels and members are told at once; a customer's first channel first,
    the next ones later while unacknowledged (`notices` plans them)."""
    if assignee["type"] == "customer":
        return (f"customer:{assignee['id']}:1", now,
                {"reason": "opened", "assignee": assignee, "position": 1})
    return (f"{assignee['type']}:{assignee['id']}", now,
            {"reason": "opened", "assignee": assignee, "position": 1})


def plan(incident, steps: list[tuple], *, now) -> None:
    """Writes the steps (key, due_at, data; each once per incident and key) and hands those
    due now to their job once the transaction commits."""
    plan_many([(incident, *step) for step in steps], now=now)


def plan_many(steps: list[tuple], *, now) -> None:
    """`plan` for steps (incident, key, due_at, data) of many incidents in one statement; the
    ones due now go to their jobs together, up to `HAND_OVER_TOGETHER` a job."""
    if not steps:
        return
    rows = [(incident.id, key[:200], due_at, data, now if due_at <= now else None)
            for incident, key, due_at, data in steps]
    taken = insert_rows(IncidentStep, _FIELDS, rows,
                        returning=(IncidentStep.id, IncidentStep.due_at))
    _hand_over([step_id for step_id, due_at in taken
                if IncidentStep.due_at.python_value(due_at) <= now])


HAND_OVER_TOGETHER = 500     # steps per job when many fall due at once (a storm's)


def _hand_over(ids: list) -> None:
    """Sends the steps' jobs once the transaction commits: a step alone, many as lists."""
    for start in range(0, len(ids), HAND_OVER_TOGETHER):
        chunk = ids[start:start + HAND_OVER_TOGETHER]
        jobs.defer(RUN_STEP, chunk[0] if len(chunk) == 1 else chunk)


RESEND_AFTER = dt.timedelta(minutes=1)    # a step whose job was sent this long ago and is not
                                          # done: the job was lost (or its worker killed)


def hand_over_due(*, now, limit: int = 1000) -> int:
    """Hands the steps that fell due to their job (reads the partial index of steps not
    done), and again those whose job was sent a minute ago and has not done them; answers
    how many."""
    due = list(IncidentStep.select(IncidentStep.id).where(
        IncidentStep.done_at.is_null(), IncidentStep.due_at <= now,
        IncidentStep.enqueued_at.is_null() | (IncidentStep.enqueued_at < now - RESEND_AFTER))
        .order_by(IncidentStep.due_at).limit(limit))
    if not due:
        return 0
    ids = [step.id for step in due]
    IncidentStep.update(enqueued_at=now).where(IncidentStep.id.in_(ids)).execute()
    _hand_over(ids)
    return len(ids)
