"""The scheduler's leader lock on a real Redis and on a file, and the tick loop over it."""
from __future__ import annotations

import threading

import pytest
import redis

from pinghome.localservers import Redis
from scheduler.lock import FileLeaderLock, RedisLeaderLock
from scheduler.loop import PeriodicTask, Scheduler
from tests.polling import wait_until


@pytest.fixture(scope="module")
def real_redis(servers):
    """The session's Redis, or (on the embedded backend) one started for these tests."""
    if servers["redis"] is not None:
        yield redis.Redis.from_url(servers["redis_url"])
        return
    server = Redis().start()
    yield redis.Redis.from_url(server.url)
    server.destroy()


def test_one_redis_lock_holder_at_a_time(real_redis):
    name = "test:leader:one"
    first, second = (RedisLeaderLock(real_redis, name=name) for _ in range(2))
    assert first.hold() and first.hold()   # holding again renews
    assert not second.hold()
    first.release()
    assert second.hold()
    second.release()


def test_a_standby_takes_over_when_the_leader_stops_renewing(real_redis):
    name = "test:leader:takeover"
    leader = RedisLeaderLock(real_redis, name=name, ttl_seconds=0.5)
    standby = RedisLeaderLock(real_redis, name=name, ttl_seconds=0.5)
    assert leader.hold()
    assert not standby.hold()
    wait_until(standby.hold, timeout=5)      # the leader "died": its key expired
    assert not leader.hold()                 # and it knows it lost
    standby.release()


def test_an_unreachable_redis_means_standing_by():
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    assert not RedisLeaderLock(unreachable, name="x").hold()


def test_one_file_lock_holder_at_a_time(tmp_path):
    first, second = FileLeaderLock(tmp_path / "lock"), FileLeaderLock(tmp_path / "lock")
    assert first.hold() and not second.hold()
    first.release()
    assert second.hold()
    second.release()


def test_the_scheduler_runs_tasks_only_while_it_leads(tmp_path):
    runs = []
    other = FileLeaderLock(tmp_path / "lock")
    assert other.hold()
    scheduler = Scheduler(FileLeaderLock(tmp_path / "lock"),
                          [PeriodicTask("count", 0, lambda now: runs.append(now))])
    scheduler.tick()
    assert runs == [] and not scheduler.is_leader
    other.release()
    scheduler.tick()
    scheduler.tick()
    assert len(runs) == 2 and scheduler.is_leader


def test_a_failing_task_does_not_stop_the_others(tmp_path):
    runs = []

    def broken(now):
        raise RuntimeError("database restarting")

    scheduler = Scheduler(FileLeaderLock(tmp_path / "lock"),
                          [PeriodicTask("broken", 0, broken),
                           PeriodicTask("fine", 0, lambda now: runs.append(now))])
    scheduler.tick()
    assert len(runs) == 1


def test_a_task_runs_once_per_period(tmp_path):
    runs = []
    scheduler = Scheduler(FileLeaderLock(tmp_path / "lock"),
                          [PeriodicTask("hourly", 3600, lambda now: runs.append(now))])
    for _ in range(3):
        scheduler.tick()
    assert len(runs) == 1


def test_the_loop_stops_and_releases_the_lock(tmp_path):
    stop = threading.Event()
    scheduler = Scheduler(FileLeaderLock(tmp_path / "lock"), [], tick_seconds=0.01)
    thread = threading.Thread(target=scheduler.run, args=(stop,))
    thread.start()
    wait_until(lambda: scheduler.is_leader)
    stop.set()
    thread.join(5)
    assert FileLeaderLock(tmp_path / "lock").hold()
