"""Signals acknowledged by the gateway are never lost: a flusher that dies holding entries
loses them to another, and a batch stored twice counts once. On a real Redis."""
from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
import redis

from models.heartbeats import overdue
from models.heartbeats.signals import Signal
from models.db import is_postgres
from models.heartbeats.packing import pack
from models.heartbeats.stream import STREAM, UNSTORABLE, SignalStream
from models.heartbeats.tables import Heartbeat, HeartbeatEvent
from pinghome.localservers import Redis, free_port
from tests.factories.accounts import make_customer
from tests.factories.organisations import first_team, make_service
from workers.heartbeat_flusher import Flusher

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
        raise RuntimeError("database restarting")
    flusher.store = failing_store
    with pytest.raises(RuntimeError):
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


def test_the_sweep_leaves_up_a_heartbeat_whose_timely_signal_still_waits_in_the_stream(
        stream, heartbeat):
    received = dt.datetime.now(dt.timezone.utc)      # entries carry Redis's clock: real time
    stream.publish(Signal(key=uuid.uuid4().hex, heartbeat_id=str(heartbeat.id), result="tick",
                          received_at=received, method="GET"))
    heartbeat.status, heartbeat.deadline_at = "up", received + dt.timedelta(seconds=0.1)
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
