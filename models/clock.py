"""The only code that reads wall-clock time.

`now()` is the system clock corrected by the offset last measured against NTP, so that workers
on machines with drifting clocks still stamp results with the same time.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import socket

import ntplib

log = logging.getLogger(__name__)

UTC = dt.timezone.utc
_offset_seconds = 0.0


def now() -> dt.datetime:
    """The current instant, aware and in UTC, corrected by the measured NTP offset."""
    return dt.datetime.now(UTC) + dt.timedelta(seconds=_offset_seconds)


def offset_seconds() -> float:
    return _offset_seconds


def set_offset(seconds: float) -> None:
    global _offset_seconds
    _offset_seconds = seconds


def to_second(instant: dt.datetime) -> dt.datetime:
    """The instant in UTC without its fraction of a second (on-call times are kept and
    answered to the second)."""
    return instant.astimezone(UTC).replace(microsecond=0)


def isoformat(instant: dt.datetime | None) -> str | None:
    """RFC 3339 in UTC with `Z`, as every API answer writes times."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclasses.dataclass(frozen=True)
class OffsetReading:
    server: str
    offset_seconds: float | None   # None when the server could not be reached
    error: str | None = None

    @property
    def reached(self) -> bool:
        return self.offset_seconds is not None


def measure_offset(server: str, timeout_seconds: float = 2.0) -> OffsetReading:
    """Asks `server` (host or host:port) how far the local clock is off; never raises."""
    host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
    host = host or server
    try:
        response = ntplib.NTPClient().request(host, version=3, port=int(port) if port else "ntp",
                                              timeout=timeout_seconds)
    except (ntplib.NTPException, OSError, socket.gaierror, ValueError) as exc:
        return OffsetReading(server, None, str(exc) or exc.__class__.__name__)
    return OffsetReading(server, response.offset)
