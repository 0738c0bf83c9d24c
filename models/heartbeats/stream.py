"""Signals between the gateway and the flushers, in a Redis stream.

The gateway's XADD returns once Redis has the entry: from then on the signal is in Redis's
append-only file (config/redis.conf: `appendonly yes`), so it survives any of our processes
dying and a Redis restart. Flushers read it through a consumer group; an entry stays pending
until a flusher has committed it to the database and acknowledged it, and a flusher that died
holding entries loses them to another (XAUTOCLAIM) after `claim_idle` seconds."""
from __future__ import annotations

import datetime as dt
import json
import threading

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


def _signals(fields: dict) -> list[Signal]:
    return [unpack(line) for line in fields[b"s"].split(b"\n")]


class SignalStream:
    def __init__(self, client: redis.Redis):
        self.client = client
        self._grouped = False
        self._publisher = GroupPublisher(self._append)

    def publish(self, signal: Signal) -> None:
        """Returns once the signal is in Redis (raises if it could not be written)."""
        self._publisher.publish(pack(signal))

    def _append(self, packed: list[bytes]) -> None:
        # one entry per group: packed signals are JSON, which never holds a raw newline
        self.client.execute_command("XADD", STREAM, "*", "s", b"\n".join(packed))

    def read(self, consumer: str, *, count: int = 1000, block_ms: int = 500) -> list:
        """New entries for `consumer`: [(entry id, [Signal, ...])]; pending until
        acknowledged."""
        self._ensure_group()
        found = self.client.xreadgroup(GROUP, consumer, {STREAM: ">"}, count=count,
                                       block=block_ms)
        return [(entry, _signals(fields)) for _, entries in found or []
                for entry, fields in entries]

    def claim(self, consumer: str, *, idle_seconds: float, count: int = 1000) -> list:
        """Entries other flushers (or this one, before a restart) took and never acknowledged."""
        self._ensure_group()
        _, entries, *_ = self.client.xautoclaim(STREAM, GROUP, consumer,
                                                min_idle_time=int(idle_seconds * 1000),
                                                start_id="0-0", count=count)
        return [(entry, _signals(fields)) for entry, fields in entries if fields]

    def acknowledge(self, entries: list) -> None:
        ids = [entry for entry, _ in entries]
        with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(STREAM, GROUP, *ids)
            pipe.xdel(STREAM, *ids)
            pipe.execute()

    def backlog(self) -> int:
        """Entries (groups of signals) not yet stored, waiting or pending."""
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


class GroupPublisher:
    """Group commit for the gateway's concurrent requests: one that finds no write in
    progress writes every signal waiting (its own included) in one go; those arriving
    meanwhile wait for the next group. Each returns only once its own signal was written, so
    an answer still means "in Redis", for one round trip per group instead of one each."""

    def __init__(self, write):
        self._write = write
        self._cond = threading.Condition()
        self._waiting: list[list] = []       # [data, done, error]
        self._writing = False

    def publish(self, data: bytes) -> None:
        slot = [data, False, None]
        with self._cond:
            self._waiting.append(slot)
            while not slot[1]:
                if self._writing:
                    self._cond.wait()
                    continue
                self._writing = True
                group, self._waiting = self._waiting, []
                self._cond.release()
                error = None
                try:
                    self._write([item[0] for item in group])
                except Exception as exc:       # every request of the group learns it failed
                    error = exc
                finally:
                    self._cond.acquire()
                    for item in group:
                        item[1], item[2] = True, error
                    self._writing = False
                    self._cond.notify_all()
        if slot[2] is not None:
            raise slot[2]
