"""What an agent's push does: it is authenticated by the server's push key, its readings are
stored in one statement, and it keeps the server up.

A server is `pending` until its first report, `up` while reports keep coming, and `down` once
none has come for its silence allowance: three of the agent's push intervals, at least a
minute (`mark_silent`, run by the scheduler every few seconds). Silence is measured from when
the gateway received a report, not from the readings' own times, so an agent with a wrong clock
or a backlog from an outage is judged by when it was heard.
"""
from __future__ import annotations

import datetime as dt
import hmac

from models import state_changes
from models.db import insert_rows, locked, serialized
from models.errors import Invalid, NotFound, Unauthenticated
from models.servers.tables import Server, ServerMetric

MIN_SILENCE = dt.timedelta(seconds=60)
SILENT_INTERVALS = 3
MAX_CLOCK_AHEAD = dt.timedelta(minutes=5)   # an agent's clock may run a little fast
SWEEP_BATCH = 500
_METRIC_FIELDS = [ServerMetric.server, ServerMetric.type, ServerMetric.at, ServerMetric.data]


def agent_server(server_id, token: str) -> Server:
    """The server whose push key is `token`: `NotFound` for an unknown id, `Unauthenticated`
    for a wrong key (compared in constant time)."""
    server = Server.get_or_none(Server.id == server_id)
    if server is None:
        raise NotFound("No such server monitor.")
    if not hmac.compare_digest(server.token.encode(), (token or "").encode()):
        raise Unauthenticated("The push key does not match this server; copy it from the "
                              "server monitor's page.", code="bad_push_key")
    return server


def record_report(server: Server, readings: list[tuple[str, dt.datetime, dict]], *,
                  interval_seconds: int, now) -> int:
    """Stores the readings [(type, at, values)] and pushes the server's deadline out; a
    pending or down (enabled) server comes up, recorded and handed to the incident rules.
    A repeated batch stores nothing twice. Answers how many readings were new."""
    late = [at for _, at, _ in readings if at > now + MAX_CLOCK_AHEAD]
    if late:
        raise Invalid("Readings are dated in the future; check the agent's clock.",
                      fields={"samples": f"{late[0].isoformat()} is in the future"})
    with serialized():
        current = locked(Server.select().where(Server.id == server.id)).first()
        if current is None:
            raise NotFound("No such server monitor.")     # deleted meanwhile
        stored = insert_rows(ServerMetric, _METRIC_FIELDS,
                             [(server.id, kind, at, values) for kind, at, values in readings],
                             returning=(ServerMetric.at,))
        _heard(current, interval_seconds, now=now)
    return len(stored)


def _heard(server: Server, interval_seconds: int, *, now) -> None:
    columns = {"last_report_at": now, "push_interval_seconds": interval_seconds}
    if server.enabled:
        columns["deadline_at"] = now + silence_allowance(interval_seconds)
        if server.status != "up":
            columns.update(status="up", status_changed_at=now)
            _record_change(server, "up", cause=None, trigger=f"report@{now.isoformat()}", now=now)
    Server.update(**columns).where(Server.id == server.id).execute()


def silence_allowance(interval_seconds: int) -> dt.timedelta:
    return max(SILENT_INTERVALS * dt.timedelta(seconds=interval_seconds), MIN_SILENCE)


def mark_silent(*, now, batch: int = SWEEP_BATCH) -> int:
    """Takes down every server whose deadline has passed, recording and handing over each
    change. Reads only the `deadline_at <= now` range of its index (down, pending and disabled
    servers have none). Safe to repeat and to race with a push: the rows are locked, and a
    server that reported meanwhile has a later deadline and is left alone. Answers how many
    went down."""
    if not Server.select().where(Server.deadline_at <= now).exists():
        return 0          # the usual case: an index probe, no write transaction
    with serialized():
        silent = list(locked(Server.select(Server.id, Server.status, Server.deadline_at,
                                           Server.last_report_at)
                             .where(Server.deadline_at <= now)
                             .order_by(Server.deadline_at).limit(batch)))
        for server in silent:
            cause = (f"no report since {server.last_report_at.isoformat()}"
                     if server.last_report_at else "no report")
            _record_change(server, "down", cause=cause,
                           trigger=f"silent@{server.deadline_at.isoformat()}", now=now)
        if silent:
            (Server.update(status="down", status_changed_at=now, deadline_at=None)
             .where(Server.id.in_([s.id for s in silent])).execute())
    return len(silent)


def _record_change(server: Server, to_status: str, *, cause, trigger: str, now) -> None:
    state_changes.record("server", server.id, from_status=server.status, to_status=to_status,
                         cause=cause, at=now, trigger=trigger, now=now)
