"""Health: clock-offset checks of the worker and scheduler processes, and the health report."""
from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Callable

import peewee

from models import clock
from models.db import UtcDateTimeField, UUIDModel, database

log = logging.getLogger(__name__)

READING_FRESH_FOR = dt.timedelta(hours=2)   # two hourly checks
# flushers store signals within a second or so; a minute behind means none is running
SIGNALS_STALLED = dt.timedelta(seconds=60)


class ClockReading(UUIDModel):
    role = peewee.CharField(max_length=32)
    instance = peewee.CharField(max_length=128)
    server = peewee.CharField(max_length=255)
    offset_seconds = peewee.FloatField(null=True)
    error = peewee.TextField(null=True)
    checked_at = UtcDateTimeField()


class ClockOffsetTooLarge(RuntimeError):
    """The local clock is further from NTP time than `PINGHOME_MAX_CLOCK_OFFSET_SECONDS`."""


def check_clock(settings, *, role: str, instance: str, at_start: bool) -> clock.OffsetReading | None:
    """Measures the offset against `PINGHOME_NTP_SERVER`, corrects `clock.now()` by it, logs it
    and records it for the health check. An unreachable server is a warning; an offset past the
    bound stops a starting process (`ClockOffsetTooLarge`) and is an error later on."""
    if settings.ntp_server is None:
        return None
    reading = clock.measure_offset(settings.ntp_server, settings.ntp_timeout_seconds)
    if not reading.reached:
        log.warning("clock: NTP server %s unreachable (%s); keeping offset %.3f s",
                    reading.server, reading.error, clock.offset_seconds())
    elif abs(reading.offset_seconds) > settings.max_clock_offset_seconds:
        message = (f"clock is {reading.offset_seconds:+.3f} s off {reading.server}, more than "
                   f"PINGHOME_MAX_CLOCK_OFFSET_SECONDS={settings.max_clock_offset_seconds}")
        if at_start:
            raise ClockOffsetTooLarge(message + "; fix the system clock (e.g. run an NTP daemon)")
        log.error("%s; correcting timestamps by it", message)
    else:
        log.info("clock: %+.3f s off %s", reading.offset_seconds, reading.server)
    if reading.reached:
        clock.set_offset(reading.offset_seconds)
    _record(reading, role=role, instance=instance)
    return reading


def _record(reading, *, role, instance) -> None:
    values = dict(server=reading.server, offset_seconds=reading.offset_seconds,
                  error=reading.error, checked_at=clock.now())
    try:
        with database.connection_context():
            (ClockReading.insert(role=role, instance=instance, **values)
             .on_conflict(conflict_target=[ClockReading.role, ClockReading.instance],
                          update=values)
             .execute())
    except peewee.DatabaseError as exc:   # the reading is logged already; the next one is kept
        log.warning("clock: could not record the reading: %s", exc)


def report(*, broker_check: Callable[[], None], now, streams=None) -> tuple[bool, dict]:
    """Checks the database and the broker, and lists the processes' recent clock offsets.
    Answers (healthy, body); healthy is False when the database or the broker is down. With
    `streams` ({check name: stream}: heartbeat signals, webhook events), also whether this
    process can write to them now, through the very group commit and connection what it takes
    in goes through (`signal_writes`; healthy is False if not: the gateway would refuse
    everything), and how far the flushers are behind: entries waiting longer than
    `SIGNALS_STALLED` make the status "degraded" (heartbeats then go down only once their
    signals are stored), while the answer stays 200, since this process serves."""
    database_check = _timed(lambda: database.execute_sql("SELECT 1").fetchone())
    broker = _timed(broker_check)
    readings = []
    if database_check["ok"]:
        readings = [{"role": r.role, "instance": r.instance, "server": r.server,
                     "offset_seconds": r.offset_seconds, "error": r.error,
                     "checked_at": clock.isoformat(r.checked_at)}
                    for r in ClockReading.select()
                    .where(ClockReading.checked_at > now - READING_FRESH_FOR)
                    .order_by(ClockReading.role, ClockReading.instance)]
    checks = {"database": database_check, "broker": broker,
              "clock": {"offset_seconds": clock.offset_seconds(), "processes": readings}}
    essential = [database_check, broker]
    if streams:
        for name, stream in streams.items():
            checks[name] = _backlog(stream, now)
        checks["signal_writes"] = _timed(lambda: [s.check_writing() for s in streams.values()])
        essential.append(checks["signal_writes"])
    healthy = all(check["ok"] for check in essential)
    status = "unavailable" if not healthy else "ok" if all(
        check.get("ok", True) for check in checks.values()) else "degraded"
    return healthy, {"status": status, "checked_at": clock.isoformat(now), "checks": checks}


def _backlog(stream, now) -> dict:
    try:
        oldest, waiting = stream.oldest_waiting(), stream.backlog()
    except Exception as exc:   # Redis down: the broker check says so too
        return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}
    lag = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return {"ok": lag <= SIGNALS_STALLED.total_seconds(), "waiting_entries": waiting,
            "oldest_waiting_seconds": round(lag, 3)}


def _timed(check) -> dict:
    started = time.monotonic()
    try:
        check()
    except Exception as exc:   # any failure of a dependency is reported, not raised
        return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"[:300]}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 2)}
