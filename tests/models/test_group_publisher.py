"""Group commit of the gateway's signals: every publisher returns only after the write that
holds its signal, and learns when that write failed."""
from __future__ import annotations

import concurrent.futures
import threading
import time

import pytest

from models.streams import GroupPublisher


def test_concurrent_signals_are_written_once_each_in_shared_writes():
    groups: list[list[bytes]] = []
    written: set[bytes] = set()

    writing = threading.Semaphore(1)      # one write at a time, groups in order

    def write(items):
        assert writing.acquire(blocking=False), "two writes at once"
        time.sleep(0.005)                 # a round trip, while others queue up
        groups.append(items)
        written.update(items)
        writing.release()

    publisher = GroupPublisher(write)

    def publish(n):
        publisher.publish(b"%d" % n)
        return b"%d" % n in written       # already written when publish returns

    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(publish, range(400)))
    assert all(answers)
    assert sorted(item for group in groups for item in group) == sorted(b"%d" % n
                                                                        for n in range(400))
    assert len(groups) < 400 and max(len(g) for g in groups) > 1


def test_a_failed_write_fails_every_signal_it_held_and_the_next_write_goes_on():
    failing = threading.Event()
    failing.set()

    def write(items):
        time.sleep(0.005)
        if failing.is_set():
            raise ConnectionError("Redis is away")

    publisher = GroupPublisher(write)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda n: _outcome(publisher, n), range(40)))
    assert outcomes == ["ConnectionError"] * 40
    failing.clear()
    publisher.publish(b"later")           # nothing stuck behind the failures


def _outcome(publisher, n) -> str:
    try:
        publisher.publish(b"%d" % n)
    except ConnectionError as exc:
        return type(exc).__name__
    return "written"


def test_a_leader_killed_while_waiting_its_turn_fails_its_group_and_blocks_nobody():
    first_writing, release = threading.Event(), threading.Event()
    written: list[list[bytes]] = []

    def write(items):
        if not written:
            first_writing.set()
            release.wait(5)
        written.append(items)

    publisher = GroupPublisher(write)
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        first = pool.submit(publisher.publish, b"first")
        first_writing.wait(5)
        killed = threading.Event()

        def leader_killed_in_its_wait():     # as gevent kills a greenlet: an exception
            original = publisher._ahead.done.wait     # raised where it waits

            def interrupted(timeout=None):
                killed.set()
                raise KeyboardInterrupt
            publisher._ahead.done.wait = interrupted
            try:
                publisher.publish(b"second")
            finally:
                publisher._ahead.done.wait = original
        with pytest.raises(KeyboardInterrupt):
            leader_killed_in_its_wait()
        assert killed.is_set()
        third = pool.submit(publisher.publish, b"third")     # a new group, behind "first"
        release.set()
        first.result(5)
        third.result(5)
    assert written == [[b"first"], [b"third"]]
