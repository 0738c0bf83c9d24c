"""Moves what the gateway took in from a Redis stream into the database, in batches: heartbeat
signals (`ingest.store`) and webhook events each have a flusher of their own.

Runs beside the Dramatiq workers of the region-less `pinghome worker` (any number of them: the
stream's consumer group shares the entries out). An entry is acknowledged only after its batch
committed; entries a dead flusher held are claimed after `claim_idle` seconds. Storing is
idempotent (rows keep their gateway key), so a batch stored twice counts once."""
from __future__ import annotations

import logging
import threading
import time

import redis

from models import clock
from models.db import answers, database, is_unavailable
from models.heartbeats import ingest
from models.heartbeats.stream import SignalStream
from models.incidents.events import store_events
from models.incidents.webhooks import EventStream
from models.streams import Entry, Stream

log = logging.getLogger(__name__)

MAX_TRIES = 3            # an entry failing alone this often is set aside
SUSPECT_AFTER = 5        # handed to flushers this often and never stored: tried alone


class Flusher:
    def __init__(self, stream: Stream, consumer: str, *, store=ingest.store, batch: int = 5000,
                 claim_idle: float = 15.0, block_ms: int = 200):
        """`store(items, now=...)` stores a batch of the stream's items in one transaction
        (the heartbeat signals' by default)."""
        self.stream, self.consumer, self.store_items = stream, consumer, store
        self.batch, self.claim_idle, self.block_ms = batch, claim_idle, block_ms
        self._claimed_at = 0.0

    def flush_once(self) -> int:
        """Stores one batch (claimed leftovers first); answers how many items it held."""
        entries = []
        # not while the database is away: every claim counts as a delivery of its entries
        if time.monotonic() - self._claimed_at >= min(self.claim_idle, 5.0) and \
                self._database_answers():
            self._claimed_at = time.monotonic()
            entries = self.stream.claim(self.consumer, idle_seconds=self.claim_idle,
                                        count=self.batch)
        if not entries:
            entries = self.stream.read(self.consumer, count=self.batch, block_ms=self.block_ms)
        if entries:
            self.store_or_set_aside(entries)
        return sum(len(entry.items or ()) for entry in entries)

    def store_or_set_aside(self, entries: list[Entry]) -> None:
        """Stores the entries and acknowledges them. Whatever one entry does, it can hold up
        only itself: an unreadable one is set aside at once; when a batch fails for what it
        holds (not the database being away), its entries are stored one by one, and one that
        still fails is set aside after `MAX_TRIES` tries with its error. So is an entry that
        flushers were handed `SUSPECT_AFTER` times and never stored (one that kills the
        flusher storing it): it is tried on its own. The database being away leaves them all
        pending, to be tried again."""
        readable = [entry for entry in entries if entry.items is not None]
        if len(readable) < len(entries):
            self.stream.set_aside([e for e in entries if e.items is None], "unreadable")
        alone = [entry for entry in readable if entry.deliveries > SUSPECT_AFTER]
        together = [entry for entry in readable if entry.deliveries <= SUSPECT_AFTER]
        if together:
            try:
                self.store(together)
            except Exception as exc:
                if is_unavailable(exc):
                    raise
                log.warning("flusher of %s: a batch of %d entries failed (%s: %s); "
                            "storing them one by one", self.stream.name, len(together),
                            type(exc).__name__, exc)
                alone += together
            else:
                self.stream.acknowledge(together)
        for entry in alone:
            self._store_alone(entry)

    def _store_alone(self, entry: Entry) -> None:
        error = None
        while self.stream.count_try(entry) <= MAX_TRIES:
            try:
                self.store([entry])
            except Exception as exc:
                if is_unavailable(exc):
                    self.stream.count_try(entry, -1)     # not the entry's fault
                    raise
                error = f"{type(exc).__name__}: {exc}"
                continue
            self.stream.acknowledge([entry])
            return
        reason = error or f"tried {MAX_TRIES} times; a flusher stopped each time"
        log.error("flusher of %s: entry %s set aside: %s", self.stream.name, entry.id, reason)
        self.stream.set_aside([entry], reason)

    @staticmethod
    def _database_answers() -> bool:
        with database.connection_context():
            return answers()

    def store(self, entries: list[Entry]) -> None:
        with database.connection_context():
            self.store_items([item for entry in entries for item in entry.items],
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
                log.warning("flusher of %s: %s; retrying", self.stream.name, exc)
                stop.wait(1.0)
            except Exception:      # the database restarting: the entries stay pending
                log.exception("flusher of %s: batch not stored; retrying", self.stream.name)
                stop.wait(1.0)


def start_flushers(redis_url: str, consumer: str, stop: threading.Event, *,
                   cadence: float) -> list[threading.Thread]:
    """A flusher thread for the heartbeat signals and one for the webhook events."""
    client = redis.Redis.from_url(redis_url, socket_timeout=10)
    threads = []
    for name, stream, store in [("heartbeat-flusher", SignalStream(client), ingest.store),
                                ("event-flusher", EventStream(client), store_events)]:
        flusher = Flusher(stream, consumer, store=store)
        thread = threading.Thread(target=flusher.run, args=(stop,), kwargs={"cadence": cadence},
                                  name=name, daemon=True)
        thread.start()
        threads.append(thread)
    return threads
