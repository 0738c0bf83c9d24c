"""Signals between the gateway and the flushers, in a Redis stream.

The gateway's XADD returns once Redis has the entry: from then on the signal is in Redis's
append-only file (config/redis.conf: `appendonly yes`), so it survives any of our processes
dying and a Redis restart. Flushers read it through a consumer group; an entry stays pending
until a flusher has committed it to the database and acknowledged it, and a flusher that died
holding entries loses them to another (XAUTOCLAIM) after `claim_idle` seconds."""
from __future__ import annotations

import datetime as dt
import json

import redis

from models.heartbeats.signals import Signal

STREAM = "pinghome:heartbeat-signals"
GROUP = "flushers"


def pack(signal: Signal) -> bytes:
    return json.dumps([signal.key, signal.heartbeat_id, signal.result,
                       signal.received_at.timestamp(), signal.method, signal.message,
                       signal.ip, signal.user_agent], separators=(",", ":")).encode()


def unpack(data: bytes) -> Signal:
    key, heartbeat_id, result, at, method, message, ip, agent = json.loads(data)
    return Signal(key=key, heartbeat_id=heartbeat_id, result=result,
                  received_at=dt.datetime.fromtimestamp(at, dt.timezone.utc), method=method,
                  message=message, ip=ip, user_agent=agent)


class SignalStream:
    def __init__(self, client: redis.Redis):
        self.client = client
        self._grouped = False

    def publish(self, signal: Signal) -> None:
        self.client.xadd(STREAM, {b"s": pack(signal)})

    def read(self, consumer: str, *, count: int = 1000, block_ms: int = 500) -> list:
        """New entries for `consumer`: [(entry id, Signal)]; pending until acknowledged."""
        self._ensure_group()
        found = self.client.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count,
                                       block=block_ms)
        return [(entry, unpack(fields[b"s"])) for _, entries in found or []
                for entry, fields in entries]

    def claim(self, consumer: str, *, idle_seconds: float, count: int = 1000) -> list:
        """Entries other flushers (or this one, before a restart) took and never acknowledged."""
        self._ensure_group()
        _, entries, *_ = self.client.xautoclaim(STREAM, GROUP, consumer,
                                                min_idle_time=int(idle_seconds * 1000),
                                                start_id="0-0", count=count)
        return [(entry, unpack(fields[b"s"])) for entry, fields in entries if fields]

    def acknowledge(self, entries: list) -> None:
        ids = [entry for entry, _ in entries]
        with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(STREAM, GROUP, *ids)
            pipe.xdel(STREAM, *ids)
            pipe.execute()

    def backlog(self) -> int:
        """Entries not yet stored (waiting or pending)."""
        return self.client.xlen(STREAM)

    def _ensure_group(self) -> None:
        if self._grouped:
            return
        try:
            self.client.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._grouped = True
