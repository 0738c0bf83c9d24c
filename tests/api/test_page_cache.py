"""The public pages' render cache: one build per key at a time, the answer before served
while it runs, nothing kept from a build that began before a `forget`."""
from __future__ import annotations

import threading
import time

import pytest

from api.resources.public_pages import PageCache


def test_a_due_answer_is_rebuilt_by_one_request_while_the_others_get_the_one_before():
    cache = PageCache(0.05)
    assert cache.get("k", lambda: "first") == "first"
    time.sleep(0.06)
    started, release = threading.Event(), threading.Event()
    builds = []

    def slow():
        builds.append(1)
        started.set()
        release.wait(5)
        return "second"

    builder = threading.Thread(target=lambda: cache.get("k", slow))
    builder.start()
    assert started.wait(5)
    assert [cache.get("k", slow) for _ in range(20)] == ["first"] * 20     # not waiting
    release.set()
    builder.join(5)
    assert cache.get("k", slow) == "second" and builds == [1]


def test_the_first_build_is_waited_for_once():
    cache = PageCache(10)
    builds, answers = [], []

    def slow():
        builds.append(1)
        time.sleep(0.1)
        return "page"

    threads = [threading.Thread(target=lambda: answers.append(cache.get("k", slow)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert answers == ["page"] * 8 and builds == [1]


def test_a_build_begun_before_forget_is_not_kept():
    cache = PageCache(10)
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(5)
        return "old"

    builder = threading.Thread(target=lambda: cache.get("k", slow))
    builder.start()
    assert started.wait(5)
    cache.forget()
    release.set()
    builder.join(5)
    assert cache.get("k", lambda: "new") == "new"


def test_a_failed_build_keeps_nothing_and_is_tried_again():
    cache = PageCache(10)

    def failing():
        raise LookupError("gone")

    for _ in range(2):
        with pytest.raises(LookupError):
            cache.get("k", failing)
    assert cache.get("k", lambda: "back") == "back"
