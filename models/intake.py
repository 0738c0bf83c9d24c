"""Where the gateway puts what it takes in (a heartbeat signal, a webhook event) before it
answers: the item's Redis stream when Redis is configured (flushers store batches), else
straight into the database (embedded)."""
from __future__ import annotations

import os
import time
from typing import Callable

from models import clock
from models.streams import Stream


def new_key() -> str:
    """The key of an item taken in (a signal, an event), unique to it: 32 hex digits, the
    first 16 the time in nanoseconds, so stored items are added at the end of their key's
    index (a few pages written) rather than all over it, as random keys were."""
    return f"{time.time_ns():016x}{os.urandom(8).hex()}"


class StreamIntake:
    def __init__(self, stream: Stream):
        self.stream = stream

    def accept(self, item) -> None:
        self.stream.publish(item)


class DatabaseIntake:
    def __init__(self, store: Callable):
        self.store = store

    def accept(self, item) -> None:
        self.store([item], now=clock.now())


def intake_for(stream: Stream | None, store: Callable):
    """Into `stream`, or through `store(items, now=...)` when there is none."""
    return StreamIntake(stream) if stream is not None else DatabaseIntake(store)
