"""Moves heartbeat signals from the Redis stream into the database, in batches.

Runs beside the Dramatiq workers of the region-less `pinghome worker` (any number of them: the
stream's consumer group shares the entries out). An entry is acknowledged only after its batch
committed; entries a dead flusher held are claimed after `claim_idle` seconds. Storing is
idempotent (signals keep their gateway key), so a batch stored twice counts once."""
from __future__ import annotations

import logging
import threading
import time

import peewee
import redis

from models import clock
from models.db import database
from models.heartbeats import ingest
from models.heartbeats.stream import Entry, SignalStream

log = logging.getLogger(__name__)


class Flusher:
    def __init__(self, stream: SignalStream, consumer: str, *, batch: int = 5000,
                 claim_idle: float = 15.0, block_ms: int = 200):
        self.stream, self.consumer = stream, consumer
        self.batch, self.claim_idle, self.block_ms = batch, claim_idle, block_ms
        self._claimed_at = 0.0

    def flush_once(self) -> int:
        """Stores one batch (claimed leftovers first); answers how many signals it held."""
        entries = []
        if time.monotonic() - self._claimed_at >= min(self.claim_idle, 5.0):
            self._claimed_at = time.monotonic()
            entries = self.stream.claim(self.consumer, idle_seconds=self.claim_idle,
                                        count=self.batch)
        if not entries:
            entries = self.stream.read(self.consumer, count=self.batch, block_ms=self.block_ms)
        if entries:
            self.store_or_set_aside(entries)
        return sum(len(entry.signals or ()) for entry in entries)

    def store_or_set_aside(self, entries: list[Entry]) -> None:
        """Stores the entries and acknowledges them. One that can never be stored (unreadable,
        or refused by the database for what it holds) is set aside, found by storing the
        entries one by one, rather than holding up every batch it comes in. Any other error
        (the database restarting) leaves them all pending, to be tried again."""
        readable = [entry for entry in entries if entry.signals is not None]
        if len(readable) < len(entries):
            self.stream.set_aside([e for e in entries if e.signals is None], "unreadable")
        if not readable:
            return
        try:
            self.store(readable)
        except (peewee.DataError, peewee.IntegrityError) as exc:
            if len(readable) > 1:
                for entry in readable:
                    self.store_or_set_aside([entry])
                return
            log.error("heartbeat flusher: entry %s set aside: %s", readable[0].id, exc)
            self.stream.set_aside(readable, f"{type(exc).__name__}: {exc}")
            return
        self.stream.acknowledge(readable)

    def store(self, entries: list[Entry]) -> None:
        with database.connection_context():
            ingest.store([signal for entry in entries for signal in entry.signals],
                         now=clock.now())

    def run(self, stop: threading.Event, *, cadence: float = 0.0) -> None:
        """Flushes until stopped, at most once per `cadence` seconds: under load, a longer
        cadence makes bigger batches, and a heartbeat signalling several times in one batch
        has its row written once."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                if self.flush_once():
                    stop.wait(cadence - (time.monotonic() - started))
            except redis.RedisError as exc:      # Redis restarting: nothing was taken
                log.warning("heartbeat flusher: %s; retrying", exc)
                stop.wait(1.0)
            except Exception:      # the database restarting: the entries stay pending
                log.exception("heartbeat flusher: batch not stored; retrying")
                stop.wait(1.0)


def start_flusher(redis_url: str, consumer: str, stop: threading.Event, *,
                  cadence: float) -> threading.Thread:
    flusher = Flusher(SignalStream(redis.Redis.from_url(redis_url, socket_timeout=10)), consumer)
    thread = threading.Thread(target=flusher.run, args=(stop,), kwargs={"cadence": cadence},
                              name="heartbeat-flusher", daemon=True)
    thread.start()
    return thread
