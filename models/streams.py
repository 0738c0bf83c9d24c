"""What the gateway takes in (heartbeat signals, webhook events), between it and the flushers:
Redis streams of rows packed in COPY's text format.

The gateway's XADD returns once Redis has the entry: from then on the row is in Redis's
append-only file (config/redis.conf: `appendonly yes`), so it survives any of our processes
dying and a Redis restart. Flushers read a stream through a consumer group; an entry stays
pending until a flusher has committed it to the database and acknowledged it, and a flusher
that died holding entries loses them to another (XAUTOCLAIM) after `claim_idle` seconds."""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
from typing import Callable

import redis

GROUP = "flushers"


def client_for(settings) -> redis.Redis:
    return redis.Redis.from_url(settings.redis_url, socket_timeout=5, health_check_interval=30)


@dataclasses.dataclass(frozen=True)
class Entry:
    """One stream entry: the rows a gateway wrote in one go, and what they hold (None: they
    cannot be read)."""
    id: bytes
    data: bytes
    items: list | None
    deliveries: int = 1           # how often flushers were handed it (claims count too)


class Stream:
    """One Redis stream of packed rows (`decode` turns an entry's lines into its items) with
    its consumer group, the list of entries set aside (`<name>:unstorable`, the last 100,000)
    and the tries at storing an entry alone (`<name>:tries`)."""

    def __init__(self, client: redis.Redis, name: str, *, decode: Callable[[bytes], object]):
        self.client, self.name, self.decode = client, name, decode
        self.unstorable, self.tries = f"{name}:unstorable", f"{name}:tries"
        self._grouped = False
        self._publisher = GroupPublisher(self._append)
        self._writer = None       # the publisher's own connection: one write at a time

    def append(self, row: bytes) -> None:
        """Returns once the packed row is in Redis (raises if it could not be written)."""
        self._publisher.publish(row)

    def _append(self, packed: list) -> None:
        """One entry per group (a packed row never holds a raw newline; None is the health
        check's, which joins a group to see it written and adds nothing), on a connection
        of its own rather than through the client's pool and retry wrappers: the gateway
        writes thousands of groups a second. A connection that broke is dropped and the write
        tried once more on a new one; if the first did reach Redis, the rows are there twice
        under the same keys, which storing counts once."""
        rows = [data for data in packed if data is not None]
        command = ("XADD", self.name, "*", "s", b"\n".join(rows)) if rows else ("PING",)
        for attempt in (1, 2):
            if self._writer is None:
                self._writer = self._connect()
            try:
                self._writer.send_command(*command)
                self._writer.read_response()
                return
            except (redis.ConnectionError, redis.TimeoutError):
                self._writer.disconnect()
                self._writer = None
                if attempt == 2:
                    raise
            except BaseException:     # an answer may be left unread: never reuse it
                self._writer.disconnect()
                self._writer = None
                raise

    def _connect(self) -> redis.Connection:
        """A connection of the publisher's own, made beside the client's pool rather than by
        it: the pool counts what it makes against its limit and never hears of a connection
        dropped here, so after enough broken writes it would refuse every new one."""
        pool = self.client.connection_pool
        return pool.connection_class(**pool.connection_kwargs)

    def check_writing(self) -> None:
        """Raises unless the publisher can write now: a write through the group commit and
        the publisher's connection, as a row's, that adds nothing (the health check)."""
        self._publisher.publish(None)

    def read(self, consumer: str, *, count: int = 1000, block_ms: int = 500) -> list:
        """New entries for `consumer`, pending until acknowledged."""
        with self._grouped_call():
            found = self.client.xreadgroup(GROUP, consumer, {self.name: ">"}, count=count,
                                           block=block_ms)
        return [self._entry(entry, fields) for _, entries in found or []
                for entry, fields in entries]

    def claim(self, consumer: str, *, idle_seconds: float, count: int = 1000) -> list:
        """Entries other flushers (or this one, before a restart) took and never acknowledged."""
        with self._grouped_call():
            _, entries, *_ = self.client.xautoclaim(self.name, GROUP, consumer,
                                                    min_idle_time=int(idle_seconds * 1000),
                                                    start_id="0-0", count=count)
        entries = [(entry, fields) for entry, fields in entries if fields]
        with self.client.pipeline(transaction=False) as pipe:
            for entry, _ in entries:
                pipe.xpending_range(self.name, GROUP, min=entry, max=entry, count=1)
            pending = pipe.execute() if entries else []
        return [self._entry(entry, fields, found[0]["times_delivered"] if found else 1)
                for (entry, fields), found in zip(entries, pending)]

    def count_try(self, entry: Entry, by: int = 1) -> int:
        """Counts a try at storing `entry` on its own, before it is made (so a flusher that
        dies trying still counts); answers the tries so far."""
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hincrby(self.tries, entry.id, by)
            pipe.expire(self.tries, 86_400)
            tries, _ = pipe.execute()
        return tries

    def acknowledge(self, entries: list[Entry]) -> None:
        with self.client.pipeline(transaction=True) as pipe:
            self._remove(pipe, entries)
            pipe.execute()

    def set_aside(self, entries: list[Entry], reason: str) -> None:
        """Moves entries that can never be stored to a stream of their own (the last 100,000
        kept), for an operator to look at, so they do not hold up the others."""
        with self.client.pipeline(transaction=True) as pipe:
            for entry in entries:
                pipe.xadd(self.unstorable, {"entry": entry.id, "s": entry.data,
                                       "reason": reason[:2000]},
                          maxlen=100_000, approximate=True)
            self._remove(pipe, entries)
            pipe.execute()

    def _remove(self, pipe, entries: list[Entry]) -> None:
        ids = [entry.id for entry in entries]
        pipe.xack(self.name, GROUP, *ids)
        pipe.xdel(self.name, *ids)
        pipe.hdel(self.tries, *ids)

    def _entry(self, entry_id: bytes, fields: dict, deliveries: int = 1) -> Entry:
        data = fields.get(b"s", b"")
        try:
            items = [self.decode(line) for line in data.split(b"\n")]
        except (ValueError, TypeError):       # not written by a gateway of ours
            items = None
        return Entry(entry_id, data, items, deliveries)

    def oldest_waiting(self) -> dt.datetime | None:
        """When the oldest entry not yet stored (waiting or pending) was written, by Redis's
        clock (an entry's id starts with it); None when every entry is stored."""
        found = self.client.xrange(self.name, count=1)
        if not found:
            return None
        milliseconds = int(found[0][0].split(b"-")[0])
        return dt.datetime.fromtimestamp(milliseconds / 1000, dt.timezone.utc)

    def backlog(self) -> int:
        """Entries (groups of rows) not yet stored, waiting or pending."""
        return self.client.xlen(self.name)

    @contextlib.contextmanager
    def _grouped_call(self):
        """Makes the consumer group first, once, and again if it went (a Redis that came
        back without its data)."""
        if not self._grouped:
            try:
                self.client.xgroup_create(self.name, GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._grouped = True
        try:
            yield
        except redis.ResponseError as exc:
            if "NOGROUP" in str(exc):
                self._grouped = False
            raise


class GroupPublisher:
    """Group commit for the gateway's concurrent requests. Rows join the open group; its
    first member leads it: once the group ahead is written, it closes its own group (later
    rows open the next one) and writes every row in it in one go. Each publisher returns
    only once the write holding its signal is done, so an answer still means "in Redis", for
    one round trip per group instead of one each.

    Members wait on one event per group rather than a condition each: under the gateway's
    gevent workers (which make `threading.Event` gevent's) that is the cheapest wake-up."""

    def __init__(self, write):
        self._write = write
        self._lock = threading.Lock()
        self._open = _Group()
        self._ahead: _Group | None = None      # the last group closed (written or writing)

    def publish(self, data: bytes) -> None:
        with self._lock:
            group, ahead = self._open, self._ahead
            group.items.append(data)
            leads = len(group.items) == 1
        if leads:
            try:
                if ahead is not None:
                    ahead.done.wait()
                with self._lock:
                    self._open, self._ahead = _Group(), group
                self._write(group.items)
            except Exception as exc:       # every request of the group learns it failed
                group.error = exc
            except BaseException:          # the leader was killed: its group is not written
                group.error = InterruptedError("the signal's write was interrupted")
                raise
            finally:
                with self._lock:           # killed before closing it: later signals go on
                    if self._open is group:      # in a new group, behind the one ahead
                        self._open = _Group()
                group.done.set()
        else:
            group.done.wait()
        if group.error is not None:
            raise group.error


class _Group:
    __slots__ = ("items", "done", "error")

    def __init__(self):
        self.items: list[bytes] = []
        self.done = threading.Event()
        self.error: Exception | None = None
