"""A signal as the bytes the gateway writes to the stream: a row of `heartbeat_event` in COPY's
text format (`copytext`), its columns in `COLUMNS` order, so a flusher stores a batch of them
without unpacking their values."""
from __future__ import annotations

import datetime as dt
import json

from models import copytext
from models.heartbeats.signals import Signal

COLUMNS = ("key", "heartbeat_id", "result", "message", "received_at", "ip", "method",
           "user_agent")
_UTC = dt.timezone.utc


def pack(signal: Signal) -> bytes:
    # key, heartbeat id, result and method are plain words; the others may hold anything
    return "\t".join((signal.key, signal.heartbeat_id, signal.result,
                      copytext.field(signal.message), copytext.instant(signal.received_at),
                      copytext.field(signal.ip),
                      signal.method, copytext.field(signal.user_agent))).encode()


def unpack(data: bytes) -> Signal:
    if data.startswith(b"["):      # written by a gateway before 2026-11-30 (JSON)
        key, heartbeat_id, result, at, method, message, ip, agent = json.loads(data)
        return Signal(key=key, heartbeat_id=heartbeat_id, result=result,
                      received_at=dt.datetime.fromtimestamp(at, _UTC), method=method,
                      message=message, ip=ip, user_agent=agent)
    key, heartbeat_id, result, message, at, ip, method, agent = copytext.values(data)
    return Signal(key=key, heartbeat_id=heartbeat_id, result=result,
                  received_at=dt.datetime.fromisoformat(at).replace(tzinfo=_UTC),
                  method=method, message=message, ip=ip, user_agent=agent, packed=data)
