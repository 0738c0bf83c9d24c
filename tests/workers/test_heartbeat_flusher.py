"""Signals acknowledged by the gateway are never lost: a flusher that dies holding entries
loses them to another, and a batch stored twice counts once. On a real Redis."""
from __future__ import annotations

import datetime as dt
import time
import uuid

import peewee
import pytest
import redis

from models.heartbeats import overdue, signals as rules
from models.heartbeats.signals import Signal
from models.db import is_postgres
from models.heartbeats.packing import pack
from models.heartbeats.stream import STREAM, UNSTORABLE, SignalStream
from models.heartbeats.tables import Heartbeat, HeartbeatEvent
from pinghome.localservers import Redis, free_port
from tests.factories.accounts import make_customer
from tests.factories.organisations import first_team, make_service
from workers.flusher import MAX_TRIES, SUSPECT_AFTER, Flusher

T0 = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def stream(servers):
    """A stream on the session's Redis, or (embedded backend) on one started for the test."""
    server = None if servers["redis"] else Redis().start()
    client = redis.Redis.from_url(servers["redis_url"] or server.url)
    yield SignalStream(client)
    client.delete(STREAM, UNSTORABLE)
    if server:
        server.destroy()


@pytest.fixture
def heartbeat(settings):
    service = make_service(first_team(make_customer(settings)))
    return Heartbeat.create(service=service, name="Backup", methods=["GET"],
                            interval_seconds=60, grace_seconds=30, created_at=T0, updated_at=T0)


def publish(stream, heartbeat, count: int) -> None:
    for n in range(count):
        stream.publish(Signal(key=uuid.uuid4().hex, heartbeat_id=str(heartbeat.id),
                              result="tick", received_at=T0 + dt.timedelta(seconds=n),
                              method="GET", message=f"n{n}"))


def test_entries_a_dead_flusher_held_are_claimed_and_stored_once(stream, heartbeat):
    publish(stream, heartbeat, 30)
    dead = Flusher(stream, "dead", batch=20, claim_idle=0.05)
    taken = stream.read("dead", count=20)          # it read a batch, then died before storing
    assert len(taken) == 20
    alive = Flusher(stream, "alive", batch=100, claim_idle=0.05)
    time.sleep(0.1)
    assert alive.flush_once() == 20                # the dead one's batch first
    assert alive.flush_once() == 10                # then what nobody had read
    assert HeartbeatEvent.select().count() == 30 and stream.backlog() == 0
    dead.store(taken)                              # it was only slow: storing again adds nothing
    assert HeartbeatEvent.select().count() == 30


def test_a_batch_is_acknowledged_only_once_stored(stream, heartbeat):
    publish(stream, heartbeat, 5)
    flusher = Flusher(stream, "one", claim_idle=0.05)

    def failing_store(entries):
        raise peewee.OperationalError("database restarting")
    flusher.store = failing_store
    with pytest.raises(peewee.OperationalError):
        flusher.flush_once()
    assert stream.backlog() == 5 and HeartbeatEvent.select().count() == 0
    del flusher.store
    time.sleep(0.1)
    assert flusher.flush_once() == 5
    assert HeartbeatEvent.select().count() == 5 and stream.backlog() == 0


def test_an_entry_that_can_never_be_stored_is_set_aside_and_holds_up_nothing(stream, heartbeat):
    publish(stream, heartbeat, 3)
    stream.client.xadd(STREAM, {"s": b"not a signal"})
    # NUL passes the stream but not Postgres (the gateway replaces it; this came another way)
    nul = pack(Signal(key=uuid.uuid4().hex, heartbeat_id=str(heartbeat.id), result="tick",
                      received_at=T0, method="GET", message="a\x00b"))
    stream.client.xadd(STREAM, {"s": nul})
    publish(stream, heartbeat, 2)
    flusher = Flusher(stream, "one")
    flusher.flush_once()
    aside = stream.client.xrange(UNSTORABLE)
    refused = 1 if is_postgres() else 0          # SQLite text holds NUL
    assert HeartbeatEvent.select().count() == 6 - refused
    assert [fields[b"reason"].split(b":")[0] for _, fields in aside] == \
        [b"unreadable"] + [b"DataError"] * refused
    assert stream.backlog() == 0


def test_a_signal_that_fails_for_any_reason_is_set_aside_after_bounded_tries_with_its_error(
        stream, heartbeat, settings, monkeypatch):
    poisoned = Heartbeat.create(service=heartbeat.service, name="Poison", methods=["GET"],
                                interval_seconds=60, grace_seconds=30, created_at=T0,
                                updated_at=T0)
    applied = []
    real_apply = rules.apply

    def apply(state, signal):
        applied.append(signal.heartbeat_id)
        if signal.heartbeat_id == str(poisoned.id):
            raise RecursionError("maximum recursion depth exceeded")
        return real_apply(state, signal)
    monkeypatch.setattr(rules, "apply", apply)
    publish(stream, heartbeat, 2)
    publish(stream, poisoned, 1)
    publish(stream, heartbeat, 2)
    Flusher(stream, "one").flush_once()
    assert HeartbeatEvent.select().where(HeartbeatEvent.heartbeat == heartbeat.id).count() == 4
    aside = stream.client.xrange(UNSTORABLE)
    assert [fields[b"reason"] for _, fields in aside] == \
        [b"RecursionError: maximum recursion depth exceeded"]
    assert applied.count(str(poisoned.id)) == 1 + MAX_TRIES      # in its batch, then alone
    assert stream.backlog() == 0 and stream.oldest_waiting() is None   # the sweep goes on


def test_an_entry_handed_out_many_times_and_never_stored_is_tried_alone_then_set_aside(
        stream, heartbeat, monkeypatch):
    publish(stream, heartbeat, 1)
    [entry] = stream.read("doomed")
    for _ in range(SUSPECT_AFTER):            # a flusher that died storing it, every time
        [entry] = stream.claim("next", idle_seconds=0)
    assert entry.deliveries == SUSPECT_AFTER + 1
    for _ in range(MAX_TRIES):
        stream.count_try(entry)               # ... also when it was stored on its own
    Flusher(stream, "last").store_or_set_aside([entry])
    [(_, fields)] = stream.client.xrange(UNSTORABLE)
    assert fields[b"reason"].startswith(b"tried 3 times") and stream.backlog() == 0


def test_the_sweep_leaves_up_a_heartbeat_whose_timely_signal_still_waits_in_the_stream(
        stream, heartbeat):
    received = dt.datetime.now(dt.timezone.utc)      # entries carry Redis's clock: real time
    stream.publish(Signal(key=uuid.uuid4().hex, heartbeat_id=str(heartbeat.id), result="tick",
                          received_at=received, method="GET"))
    heartbeat.status = "up"
    heartbeat.deadline_at = heartbeat.sweep_at = received + dt.timedelta(seconds=0.1)
    heartbeat.save()
    later = received + dt.timedelta(seconds=5)

    def sweep(now):
        return overdue.mark_overdue(now=now, settled=overdue.settled_until(now, stream))

    assert sweep(later) == 0                         # its signal came in time, unstored yet
    assert Flusher(stream, "flusher").flush_once() == 1
    assert Heartbeat.get_by_id(heartbeat.id).deadline_at == received + dt.timedelta(seconds=90)
    assert sweep(later) == 0 and Heartbeat.get_by_id(heartbeat.id).status == "up"
    assert sweep(received + dt.timedelta(seconds=92)) == 1     # nothing waits: a real miss


def test_with_redis_unreachable_the_sweep_takes_signals_older_than_a_while_as_stored():
    dead = SignalStream(redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0"))
    assert overdue.settled_until(T0, dead) == T0 - overdue.BLIND
    assert overdue.settled_until(T0, None) == T0 - overdue.IN_FLIGHT


def test_a_gateway_writes_on_through_a_redis_restart_and_what_it_answered_survives_a_kill(
        heartbeat):
    server = Redis(appendonly=True).start()
    try:
        gateway_side = SignalStream(redis.Redis.from_url(server.url))
        publish(gateway_side, heartbeat, 1)
        server.kill()                        # SIGKILL: only the append-only file remains
        server.start()                       # same port, same files
        publish(gateway_side, heartbeat, 1)  # its connection broke: written on a new one
        assert Flusher(gateway_side, "flusher").flush_once() == 2
    finally:
        server.destroy()
    assert HeartbeatEvent.select().count() == 2


def test_a_publisher_writes_again_after_many_failed_writes_and_its_health_says_when_it_cannot(
        heartbeat):
    server = Redis(appendonly=True).start()
    try:
        gateway_side = SignalStream(redis.Redis.from_url(server.url))
        server.kill()
        for _ in range(150):          # more connections than the client's pool would make
            with pytest.raises(redis.ConnectionError):
                publish(gateway_side, heartbeat, 1)
        with pytest.raises(redis.ConnectionError):
            gateway_side.check_writing()
        server.start()
        gateway_side.check_writing()
        publish(gateway_side, heartbeat, 1)
        assert Flusher(gateway_side, "flusher").flush_once() == 1
    finally:
        server.destroy()
