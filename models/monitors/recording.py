"""Recording check outcomes: each stored once, and each moving its region's state and, when a
region changes, the monitor's overall state.

A region goes down when failures have lasted `grace_period` seconds (at once with 0) and comes
back when successes have lasted `recovery_period`. The monitor is down when a majority of its
regions are. Results inside a maintenance window are stored (marked) but move no state, so the
window raises no alert and counts no downtime; a target still failing after the window goes down
then. Durations are measured between due times, which every region shares.

A batch is recorded in a handful of statements whatever its size, also when every monitor in it
changes state at once (a first round after start-up, a shared dependency going down): that is
when alerts matter most.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import uuid

from models import copytext, metrics, state_changes
from models.db import (copy_in, database, insert_rows, is_postgres, is_unavailable, locked,
                       serialized)
from models.monitors import maintenance
from models.monitors.tables import Monitor, RegionState
from models.results import CheckResult
from models.texts import storable

log = logging.getLogger(__name__)

_RESULT_FIELDS = [CheckResult.monitor, CheckResult.region, CheckResult.due_at,
                  CheckResult.checked_at, CheckResult.ok, CheckResult.in_maintenance,
                  CheckResult.response_ms, CheckResult.status_code, CheckResult.dns_ms,
                  CheckResult.connect_ms, CheckResult.tls_ms, CheckResult.first_byte_ms,
                  CheckResult.error]
_STATE_FIELDS = [RegionState.id, RegionState.monitor, RegionState.region, RegionState.status,
                 RegionState.failing_since, RegionState.passing_since, RegionState.last_error,
                 RegionState.changed_at]


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One judged check, ready to store."""
    monitor_id: uuid.UUID
    due_at: dt.datetime
    checked_at: dt.datetime
    ok: bool
    response_ms: float | None = None
    status_code: int | None = None
    timings: dict = dataclasses.field(default_factory=dict)
    error: str | None = None

    def __post_init__(self):
        if self.error:       # a probe's error may quote the target: keep what can be stored
            object.__setattr__(self, "error", storable(self.error, 1000))


@dataclasses.dataclass(frozen=True)
class _Flip:
    """A region's status change, as it was when it happened."""
    monitor: Monitor
    region: str
    before: str
    after: str
    outcome: Outcome

    @property
    def trigger(self) -> str:
        return f"{self.region}@{self.outcome.due_at.isoformat()}"


def record(region: str, outcomes: list[Outcome], monitors: dict, *, now) -> int:
    """Stores the outcomes of one region and applies the new ones to the states, in one
    transaction: a batch delivered twice stores nothing twice and moves no state twice.
    Answers how many outcomes were new.

    One outcome can fail only itself: if the batch fails for what it holds (the database
    answers, yet refused it), each outcome is recorded on its own, and one that still fails
    is recorded as a failed check naming why. The database being away raises (the job is
    retried)."""
    try:
        return _record(region, outcomes, monitors, now=now)
    except Exception as exc:
        if len(outcomes) < 2 or is_unavailable(exc):
            raise
        log.exception("recording a batch of %d checks in %s failed; one by one", len(outcomes),
                      region)
    return sum(_record_alone(region, outcome, monitors, now=now) for outcome in outcomes)


def _record_alone(region, outcome: Outcome, monitors: dict, *, now) -> int:
    """The outcome, else a failed check saying it could not be recorded, else nothing (its
    monitor was deleted meanwhile, say)."""
    attempt = outcome
    for _ in range(2):
        try:
            return _record(region, [attempt], monitors, now=now)
        except Exception as exc:
            if is_unavailable(exc):
                raise
            log.exception("the check of %s could not be recorded", outcome.monitor_id)
            attempt = Outcome(outcome.monitor_id, outcome.due_at, outcome.checked_at, ok=False,
                              error=f"the check could not be recorded: {type(exc).__name__}")
    return 0


def _record(region: str, outcomes: list[Outcome], monitors: dict, *, now) -> int:
    if not outcomes:
        return 0
    with serialized():
        fresh = _insert(region, outcomes, monitors)
        flips = _move_regions(region, [o for o in fresh if o[1]], monitors)
        if flips:
            _move_monitors(flips, now=now)
    # counted once committed, and only what was new: a redelivered batch counts nothing twice
    metrics.count_checks(region, [(monitors[o.monitor_id].type, o.ok, o.response_ms)
                                  for o, _ in fresh])
    return len(fresh)


def _insert(region, outcomes, monitors) -> list[tuple[Outcome, bool]]:
    """Inserts the results; answers the new ones, each with whether it may move the state
    (False inside a maintenance window)."""
    rows = [(o.monitor_id, region, o.due_at, o.checked_at, o.ok,
             _in_maintenance(monitors[o.monitor_id], o.due_at), o.response_ms, o.status_code,
             o.timings.get("dns_ms"), o.timings.get("connect_ms"), o.timings.get("tls_ms"),
             o.timings.get("first_byte_ms"), (o.error or None) and o.error[:1000])
            for o in outcomes]
    returning = (CheckResult.monitor, CheckResult.due_at, CheckResult.in_maintenance)
    if is_postgres():        # COPY: about a third of the Python and of Postgres's work a row
        inserted = copy_in(CheckResult, _RESULT_FIELDS, _copy_text(rows), returning=returning)
    else:
        inserted = insert_rows(CheckResult, _RESULT_FIELDS, rows, returning=returning)
    if inserted is None:     # every one was new
        fresh = [(o, not row[5]) for o, row in zip(outcomes, rows)]
    else:
        # values come back raw (SQLite: UUID hex, text times, 0/1): normalise before matching
        new = {(_uuid(monitor_id), _utc(due_at)): in_maintenance in (False, 0)
               for monitor_id, due_at, in_maintenance in inserted}
        fresh = [(o, new[(o.monitor_id, o.due_at)]) for o in outcomes
                 if (o.monitor_id, o.due_at) in new]
    return sorted(fresh, key=lambda pair: pair[0].due_at)


def _move_regions(region, outcomes, monitors) -> list[_Flip]:
    """Steps each monitor's state in this region; writes the states that changed in one
    statement and answers the status flips."""
    if not outcomes:
        return []
    states = _states(region, {o.monitor_id for o, _ in outcomes})
    changed, flips = {}, []
    for outcome, _ in outcomes:
        monitor = monitors[outcome.monitor_id]
        state = states.get(outcome.monitor_id)
        if state is None:
            state = states[outcome.monitor_id] = _State(uuid.uuid4(), outcome.monitor_id, region)
        before = (state.status, state.failing_since, state.passing_since, state.last_error)
        _step(state, outcome, monitor)
        if (state.status, state.failing_since, state.passing_since, state.last_error) != before:
            changed[outcome.monitor_id] = state
        if state.status != before[0]:
            flips.append(_Flip(monitor, region, before[0], state.status, outcome))
    _save(list(changed.values()))
    return flips


@dataclasses.dataclass(slots=True)
class _State:
    """A region state row, as plain data (a batch reads hundreds; model objects cost more)."""
    id: uuid.UUID | str          # as read (text), or made for a new state
    monitor_id: uuid.UUID
    region: str
    status: str = "unknown"
    failing_since: dt.datetime | None = None
    passing_since: dt.datetime | None = None
    last_error: str | None = None
    changed_at: dt.datetime | None = None


def _states(region, monitor_ids) -> dict:
    """This region's states of `monitor_ids`, read with plain SQL: this runs for every batch,
    and peewee's query building and row objects cost more than the query itself. Ids come
    back as text, matched to the outcomes' UUIDs (the driver making two UUIDs a row cost
    more than the rest of it); a state's own id stays text (its field's db_value takes it)."""
    ids = [RegionState.monitor.db_value(i) for i in monitor_ids]
    # the text of a uuid column: Postgres writes it with hyphens, SQLite stores it as hex
    by_text = {str(i) if is_postgres() else i.hex: i for i in monitor_ids}
    marks = ", ".join([database.param] * len(ids))
    cursor = database.execute_sql(
        "SELECT CAST(id AS TEXT), CAST(monitor_id AS TEXT), region, status, failing_since, "
        "passing_since, last_error, changed_at FROM region_state WHERE region = "
        f"{database.param} AND monitor_id IN ({marks})", [region, *ids])
    states = {}
    for state_id, monitor_id, _, status, failing, passing, error, changed in cursor.fetchall():
        monitor = by_text[monitor_id]
        states[monitor] = _State(state_id, monitor, region, status, _utc(failing),
                                 _utc(passing), error, _utc(changed))
    return states


def _step(state: _State, outcome: Outcome, monitor: Monitor) -> None:
    """Moves one region's state by one result (ignoring results older than its last change)."""
    if state.changed_at is not None and outcome.due_at <= state.changed_at:
        return
    due = outcome.due_at
    if outcome.ok:
        state.failing_since = None
        if state.status == "down":
            state.passing_since = state.passing_since or due
            if (due - state.passing_since).total_seconds() >= monitor.recovery_period:
                _flip(state, "up", due)
        elif state.status == "unknown":
            _flip(state, "up", due)
        return
    state.passing_since = None
    state.last_error = outcome.error
    if state.status == "down":
        return
    state.failing_since = state.failing_since or due
    if (due - state.failing_since).total_seconds() >= monitor.grace_period:
        _flip(state, "down", due)


def _flip(state: _State, status: str, at) -> None:
    state.status, state.changed_at = status, at
    state.failing_since = state.passing_since = None


def _save(states: list[_State]) -> None:
    if not states:
        return
    rows = [dataclasses.astuple(s) for s in states]
    values = [f for f in _STATE_FIELDS if f.name not in ("id", "monitor", "region")]
    (RegionState.insert_many(rows, fields=_STATE_FIELDS)
     .on_conflict(conflict_target=[RegionState.monitor, RegionState.region], preserve=values)
     .execute())


def _move_monitors(flips: list[_Flip], *, now) -> None:
    """Records the region flips, then replays them against each monitor's other regions to
    find its overall changes (the monitor rows locked in id order, so concurrent batches
    decide in turn and cannot deadlock), and records and hands over those changes."""
    state_changes.record_many([
        ("monitor", f.monitor.id, f.region, f.before, f.after, f.outcome.error, None,
         f.outcome.due_at, f.trigger) for f in flips], now=now)
    ids = sorted({f.monitor.id for f in flips})
    current = {m.id: m for m in locked(Monitor.select(Monitor.id, Monitor.status, Monitor.regions)
                                       .where(Monitor.id.in_(ids)).order_by(Monitor.id))}
    seen: dict = {}
    for state in RegionState.select().where(RegionState.monitor.in_(ids)):
        seen.setdefault(state.monitor_id, {})[state.region] = state.status
    changes = []
    for flip in flips:                       # in due order
        monitor = current.get(flip.monitor.id)
        if monitor is None:
            continue                         # deleted meanwhile
        statuses = {**seen.get(monitor.id, {}), flip.region: flip.after}
        seen[monitor.id] = statuses
        status, down = _overall(monitor.regions, statuses)
        if status != monitor.status:
            changes.append(("monitor", monitor.id, None, monitor.status, status,
                            flip.outcome.error if status == "down" else None, down,
                            flip.outcome.due_at, flip.trigger))
            monitor.status = status
    _apply_overall(changes, now=now)


def _overall(regions: list, statuses: dict) -> tuple[str, list]:
    """Down when a majority of the monitor's regions are down; up when any region is up."""
    down = sorted(r for r in regions if statuses.get(r) == "down")
    if len(down) * 2 > len(regions):
        return "down", down
    return ("up" if any(statuses.get(r) == "up" for r in regions) else "unknown"), down


def _apply_overall(changes: list[tuple], *, now) -> None:
    if not changes:
        return
    state_changes.record_many(changes, now=now)       # handed to the incident rules
    final = {change[1]: (change[4], change[7]) for change in changes}   # each monitor's last
    by_status: dict = {}
    for monitor_id, status_and_time in final.items():
        by_status.setdefault(status_and_time, []).append(monitor_id)
    for (status, at), monitor_ids in by_status.items():
        (Monitor.update(status=status, status_changed_at=at)
         .where(Monitor.id.in_(monitor_ids)).execute())


def _in_maintenance(monitor: Monitor, at) -> bool:
    return maintenance.in_window(monitor.maintenance_cron_expression,
                                 monitor.maintenance_duration, at)


def _copy_text(rows: list[tuple]) -> bytes:
    """The results' rows (in _RESULT_FIELDS order) in COPY's text format. A batch's checks
    share their due and checked times, so each is written once; numbers, ids and flags need
    no escaping."""
    instants: dict = {}

    def instant(value) -> str:
        text = instants.get(value)
        if text is None:
            text = instants[value] = copytext.instant(value)
        return text

    number, field = copytext.number, copytext.field
    return b"\n".join([
        "\t".join((str(monitor_id), field(region), instant(due_at), instant(checked_at),
                   "t" if ok else "f", "t" if in_maintenance else "f", number(response_ms),
                   number(status_code), number(dns_ms), number(connect_ms), number(tls_ms),
                   number(first_byte_ms), field(error))).encode()
        for monitor_id, region, due_at, checked_at, ok, in_maintenance, response_ms,
        status_code, dns_ms, connect_ms, tls_ms, first_byte_ms, error in rows])


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _utc(value) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
