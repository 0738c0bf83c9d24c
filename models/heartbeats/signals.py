"""What one signal does to a heartbeat. Pure rules over the heartbeat's fields: `apply`
changes them in place and tells the caller what changed; storing is `ingest`'s job.

- `tick` and `complete`: the job is alive; up, and the next deadline is set;
- `run`: a job started; with `max_run_seconds`, a `complete` must follow in time;
- `fail`: down at once;
- `complete` after `run` measures the run; a run over its limit is a failure.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from models.heartbeats.expectations import deadline


@dataclasses.dataclass(slots=True)      # not frozen: the gateway makes thousands a second
class Signal:
    key: str                 # the gateway's id for this signal
    heartbeat_id: str
    result: str              # tick, run, complete, fail
    received_at: dt.datetime
    method: str
    message: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    # its bytes in the stream (packing), when it came from there
    packed: bytes | None = dataclasses.field(default=None, compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class Outcome:
    to_status: str | None             # the new status when it changed
    cause: str | None = None
    duration_seconds: float | None = None
    from_status: str | None = None


def apply(heartbeat, signal: Signal) -> Outcome:
    at = signal.received_at
    before = heartbeat.status
    heartbeat.last_signal_at, heartbeat.last_result = at, signal.result
    if signal.result == "run":
        heartbeat.run_started_at = at
        if heartbeat.max_run_seconds and before != "down":
            limit = at + dt.timedelta(seconds=heartbeat.max_run_seconds)
            if heartbeat.deadline_at is None or limit < heartbeat.deadline_at:
                heartbeat.deadline_at, heartbeat.deadline_cause = limit, "run_timeout"
        return Outcome(None)
    if signal.result == "fail":
        heartbeat.run_started_at = None
        heartbeat.deadline_at = heartbeat.deadline_cause = None
        return _become(heartbeat, "down", _with_message("the job reported a failure", signal), at)
    duration = None
    if signal.result == "complete" and heartbeat.run_started_at is not None:
        duration = max(0.0, (at - heartbeat.run_started_at).total_seconds())
        heartbeat.run_started_at = None
        if heartbeat.max_run_seconds and duration > heartbeat.max_run_seconds:
            heartbeat.deadline_at = heartbeat.deadline_cause = None
            cause = f"the run took {duration:.0f} s, over its limit of {heartbeat.max_run_seconds} s"
            return dataclasses.replace(_become(heartbeat, "down", cause, at),
                                       duration_seconds=duration)
    heartbeat.deadline_at = deadline(heartbeat, at)
    heartbeat.deadline_cause = "missed" if heartbeat.deadline_at else None
    outcome = _become(heartbeat, "up", _with_message(f"a {signal.result} arrived", signal), at)
    return outcome if duration is None else dataclasses.replace(outcome, duration_seconds=duration)


def overdue_cause(heartbeat) -> str:
    if heartbeat.deadline_cause == "run_timeout":
        return (f"the run started at {heartbeat.run_started_at:%Y-%m-%d %H:%M:%S}Z did not "
                f"complete within {heartbeat.max_run_seconds} s")
    last = heartbeat.last_signal_at
    return "no signal " + (f"since {last:%Y-%m-%d %H:%M:%S}Z" if last else "arrived") + \
        f" (grace {heartbeat.grace_seconds} s)"


def _become(heartbeat, status: str, cause: str, at: dt.datetime) -> Outcome:
    before = heartbeat.status
    if before == status:
        return Outcome(None)
    heartbeat.status, heartbeat.status_changed_at = status, at
    return Outcome(status, cause, from_status=before)


def _with_message(cause: str, signal: Signal) -> str:
    return f"{cause}: {signal.message[:200]}" if signal.message else cause
