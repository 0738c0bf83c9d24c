"""The gateway's look-up of heartbeats: id -> the methods it accepts, from memory.

Each gateway process keeps what it looked up for `ttl` seconds (an unknown id for
`unknown_ttl`), so a signal costs no database query; a change made through the API reaches a
gateway in another process within `ttl`, one in the same process (embedded) at once."""
from __future__ import annotations

import threading
import time
import weakref

from models.db import database
from models.heartbeats.tables import Heartbeat

_directories: "weakref.WeakSet[Directory]" = weakref.WeakSet()


class Directory:
    def __init__(self, *, ttl: float = 60.0, unknown_ttl: float = 5.0, size: int = 500_000):
        self.ttl, self.unknown_ttl, self.size = ttl, unknown_ttl, size
        self._known: dict[str, tuple[float, frozenset | None]] = {}
        self._lock = threading.Lock()
        _directories.add(self)

    def methods(self, heartbeat_id: str) -> frozenset | None:
        """The methods the heartbeat accepts; None for no such heartbeat."""
        found = self._known.get(heartbeat_id)
        now = time.monotonic()
        if found is not None and found[0] > now:
            return found[1]
        with database.connection_context():     # not held while the signal is written
            row = (Heartbeat.select(Heartbeat.methods).where(Heartbeat.id == heartbeat_id)
                   .tuples().first())
        methods = None if row is None else frozenset(row[0])
        with self._lock:
            if len(self._known) >= self.size:
                self._known.clear()      # rare; a cold cache only costs look-ups
            self._known[heartbeat_id] = (now + (self.ttl if methods else self.unknown_ttl),
                                         methods)
        return methods

    def drop(self, heartbeat_id: str) -> None:
        with self._lock:
            self._known.pop(heartbeat_id, None)


def forget(heartbeat_id) -> None:
    """A heartbeat changed or went: gateways in this process look it up again."""
    for found in list(_directories):
        found.drop(str(heartbeat_id))
