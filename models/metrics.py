"""Prometheus metrics: every metric Pinghome exposes is declared here, once.

Two kinds. Events are counted where they happen, a label lookup and an increment each, no
I/O: checks recorded (by region, monitor type and result) with their response times, signals
accepted at the gateway, deliveries by channel type and result, and whether this process's
scheduler leads. State is read when Prometheus scrapes (`StateCollector`, a few GROUP BY
queries and Redis reads per scrape), so nothing has to be kept in sync with the database:
monitors, heartbeats and servers by state, incidents open, queue depths, signals waiting to be
stored and the processes' clock offsets.

Under gunicorn with several workers each process counts in its own files under
`PROMETHEUS_MULTIPROC_DIR` (prometheus_client reads it at import) and a scrape adds them up
(`MultiProcessCollector`); without it a scrape reads this process's default registry.
"""
from __future__ import annotations

import logging
from typing import Callable

import peewee
from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

from models import clock
from models.health import READING_FRESH_FOR, ClockReading

log = logging.getLogger(__name__)

CHECKS = Counter("pinghome_checks", "Checks recorded (a redelivered batch counts once).",
                 ["region", "type", "result"])
PROBE_DURATION = Histogram(
    "pinghome_probe_duration_seconds", "Response time of the checks that had one.",
    ["region", "type"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
SIGNALS = Counter("pinghome_signals", "What the gateway accepted: heartbeat signals, webhook "
                  "events and agent reports.", ["kind"])
DELIVERIES = Counter("pinghome_deliveries", "Outbox messages by channel type and attempt "
                     "result: sent, logged, retried (failed, tried again), failed (for good).",
                     ["channel_type", "result"])
LEADER = Gauge("pinghome_leader", "1 while this process holds the lock, 0 while it stands by; "
               "only processes that take the lock have the series.", ["lock"],
               multiprocess_mode="max")

# state gauges: name -> (help, labels), read at scrape time by StateCollector
STATE = {
    "pinghome_monitors": ("Monitors by state (paused: disabled).", ["state"]),
    "pinghome_heartbeats": ("Heartbeats by state.", ["state"]),
    "pinghome_servers": ("Servers by state (paused: disabled).", ["state"]),
    "pinghome_incidents_open": ("Incidents not resolved, by urgency and status.",
                                ["urgency", "status"]),
    "pinghome_queue_messages": ("Messages waiting in a Dramatiq queue (not yet taken by a "
                                "worker).", ["queue"]),
    "pinghome_queue_delayed_messages": ("Messages in a queue's delay queue (retries, deferred "
                                        "jobs).", ["queue"]),
    "pinghome_queue_oldest_message_age_seconds": (
        "Age of the message at the head of the queue, from when it was first sent; 0 when "
        "the queue is empty.", ["queue"]),
    "pinghome_signals_waiting_entries": ("Stream entries (groups of signals or events) "
                                         "waiting to be stored; 0 embedded.", ["stream"]),
    "pinghome_signals_oldest_waiting_seconds": ("How long the oldest entry not yet stored has "
                                                "waited.", ["stream"]),
    "pinghome_clock_offset_seconds": ("Each worker's and scheduler's last clock offset "
                                      "against NTP (readings of the last two hours).",
                                      ["role", "process"]),
    "pinghome_metrics_source_up": ("Whether a scrape could read a source of the state "
                                   "metrics (database, broker, streams).", ["source"]),
}
KNOWN_STATES = {"pinghome_monitors": ("up", "down", "unknown", "paused"),
                "pinghome_heartbeats": ("new", "up", "down"),
                "pinghome_servers": ("pending", "up", "down", "paused")}

_queue_reader: Callable[[], list] | None = None


def set_queue_reader(reader: Callable[[], list]) -> None:
    """Registers how a scrape reads the broker's queues: `reader()` answers
    [(queue, waiting, delayed, oldest_sent_at or None)]. The broker's setup fills it."""
    global _queue_reader
    _queue_reader = reader


_checks: dict = {}


def count_checks(region: str, checks) -> None:
    """Counts recorded checks, `checks` as (monitor type, ok, response_ms or None)."""
    for kind, ok, response_ms in checks:
        children = _checks.get((region, kind, ok))
        if children is None:
            children = _checks[(region, kind, ok)] = (
                CHECKS.labels(region, kind, "ok" if ok else "failed"),
                PROBE_DURATION.labels(region, kind))
        children[0].inc()
        if response_ms is not None:
            children[1].observe(response_ms / 1000)


def set_leader(lock: str, leading: bool) -> None:
    LEADER.labels(lock).set(1 if leading else 0)


class StateCollector:
    """The state gauges, read from the database, the broker and the streams at each scrape.
    A source that cannot be read leaves its gauges out and says so in
    `pinghome_metrics_source_up`, so a database being away fails no scrape."""

    def __init__(self, streams: dict):
        """`streams`: {name: stream} of the heartbeat signals and webhook events (each None
        embedded, where the gateway stores before it answers)."""
        self.streams = streams

    def collect(self):
        now = clock.now()
        families = {name: GaugeMetricFamily(name, text, labels=labels)
                    for name, (text, labels) in STATE.items()}
        up = families["pinghome_metrics_source_up"]
        for source, read in (("database", self._database), ("broker", self._queues),
                             ("streams", self._streams)):
            try:
                read(families, now)
            except Exception as exc:   # a source away is a gauge, not a failed scrape
                log.warning("metrics: could not read the %s: %s", source, exc)
                up.add_metric([source], 0)
            else:
                up.add_metric([source], 1)
        yield from families.values()

    def _database(self, families, now) -> None:
        # imported here: the tables' modules count through this one (recording, the outbox)
        from models.heartbeats.tables import Heartbeat
        from models.incidents.tables import Incident
        from models.monitors.tables import Monitor
        from models.servers.tables import Server

        rows = {"pinghome_monitors": _by_state(Monitor, Monitor.enabled),
                "pinghome_heartbeats": _by_state(Heartbeat, None),
                "pinghome_servers": _by_state(Server, Server.enabled)}
        incidents = list(Incident.select(Incident.urgency, Incident.status,
                                         peewee.fn.COUNT(Incident.id))
                         .where(Incident.status != "resolved")
                         .group_by(Incident.urgency, Incident.status).tuples())
        readings = list(ClockReading.select(ClockReading.role, ClockReading.instance,
                                            ClockReading.offset_seconds)
                        .where(ClockReading.checked_at > now - READING_FRESH_FOR,
                               ClockReading.offset_seconds.is_null(False)).tuples())
        for name, counts in rows.items():
            for state in sorted(set(KNOWN_STATES[name]) | set(counts)):
                families[name].add_metric([state], counts.get(state, 0))
        for urgency, status, count in incidents:
            families["pinghome_incidents_open"].add_metric([urgency, status], count)
        for role, instance, offset in readings:
            families["pinghome_clock_offset_seconds"].add_metric([role, instance], offset)

    def _queues(self, families, now) -> None:
        for queue, waiting, delayed, oldest in (_queue_reader() if _queue_reader else []):
            families["pinghome_queue_messages"].add_metric([queue], waiting)
            families["pinghome_queue_delayed_messages"].add_metric([queue], delayed)
            families["pinghome_queue_oldest_message_age_seconds"].add_metric(
                [queue], _age(oldest, now))

    def _streams(self, families, now) -> None:
        for name, stream in self.streams.items():
            waiting, oldest = (stream.backlog(), stream.oldest_waiting()) if stream else (0, None)
            families["pinghome_signals_waiting_entries"].add_metric([name], waiting)
            families["pinghome_signals_oldest_waiting_seconds"].add_metric(
                [name], _age(oldest, now))


def _by_state(table, enabled) -> dict:
    """{state: count}, a disabled row counted as "paused"."""
    columns = [table.status] + ([enabled] if enabled is not None else [])
    counts: dict = {}
    for row in table.select(*columns, peewee.fn.COUNT(table.id)).group_by(*columns).tuples():
        state = row[0] if enabled is None or row[1] else "paused"
        counts[state] = counts.get(state, 0) + row[-1]
    return counts


def _age(instant, now) -> float:
    return max(0.0, (now - instant).total_seconds()) if instant is not None else 0.0


class _Scrape:
    """What one scrape reads: a registry-like object over several collectors."""

    def __init__(self, *collectors):
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def exposition(settings, state: StateCollector | None = None, *,
               accept: str | None = None) -> tuple[bytes, str]:
    """This process's metrics (or, with `PROMETHEUS_MULTIPROC_DIR`, those of every process
    that shares the directory), with the state gauges when `state` is given, in Prometheus'
    text format (OpenMetrics when `accept`, the request's Accept header, asks for it);
    answers (body, content type)."""
    if settings.metrics_multiproc_dir:
        counted = MultiProcessCollector(None, path=settings.metrics_multiproc_dir)
    else:
        counted = REGISTRY
    collectors = (counted, state) if state is not None else (counted,)
    encode, content_type = choose_encoder(accept or "")
    return encode(_Scrape(*collectors)), content_type
