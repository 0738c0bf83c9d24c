"""The incident layer's entry point for state changes of monitors, heartbeats and servers.

Recording a change hands it over here; the rules that open and resolve incidents from it (the
incidents issue) run in the `incidents.apply_rules` job, so a slow rule never holds up the
recording of results, and a redelivered job finds the change handed over already.
"""
from __future__ import annotations

import importlib
import uuid

from models import jobs
from models.db import insert_rows

# where each subject's state changes are recorded (imported when needed: the recording modules
# import this one)
CHANGE_TABLES = {
    "monitor": "models.monitors.tables:StateChange",
    "heartbeat": "models.heartbeats.tables:HeartbeatStateChange",
    "server": "models.servers.tables:ServerStateChange",
}


def state_changed(change_id, *, now, subject: str = "monitor") -> None:
    """Hands an overall state change to the incident rules once the recording commits."""
    jobs.defer("incidents.apply_rules", str(change_id), subject)


def record_change(subject: str, owner_id, *, from_status: str, to_status: str, cause,
                  at, trigger: str, now) -> None:
    """Records a change of a heartbeat's or server's status, once per `trigger` (a repeated
    flush or sweep records nothing), and hands it over once the recording commits. The change
    tables name their owner after the subject (`heartbeat`, `server`)."""
    table = change_table(subject)
    change_id = uuid.uuid4()
    taken = insert_rows(
        table, [table.id, getattr(table, subject), table.from_status, table.to_status,
                table.cause, table.changed_at, table.trigger_key],
        [(change_id, owner_id, from_status, to_status, cause, at,
          trigger[:table.trigger_key.max_length])],
        returning=(table.id,))
    if taken:
        state_changed(change_id, now=now, subject=subject)


def apply_rules(change_id, *, now, subject: str = "monitor") -> bool:
    """Takes a state change over (once: a second run finds it taken and answers False).
    Incident rulesets act on the changes taken over here."""
    table = change_table(subject)
    taken = (table.update(handed_at=now)
             .where(table.id == change_id, table.handed_at.is_null()).execute())
    return taken == 1


def change_table(subject: str):
    module, name = CHANGE_TABLES[subject].split(":")
    return getattr(importlib.import_module(module), name)
