"""The gateway's look-up of what it takes signals and events for (heartbeats, webhooks):
id -> what the gateway needs to know of it, from memory.

Each gateway process keeps what it looked up for `ttl` seconds (an unknown id for
`unknown_ttl`), so a signal costs no database query; a change made through the API reaches a
gateway in another process within `ttl`, one in the same process (embedded) at once."""
from __future__ import annotations

import threading
import time
import weakref
from typing import Callable

from models.db import database

_directories: "weakref.WeakSet[Directory]" = weakref.WeakSet()


class Directory:
    def __init__(self, look_up: Callable[[str], object], *, ttl: float = 60.0,
                 unknown_ttl: float = 5.0, size: int = 500_000):
        """`look_up(id)` answers what to keep of an id, None for an unknown one."""
        self.look_up, self.ttl, self.unknown_ttl, self.size = look_up, ttl, unknown_ttl, size
        self._known: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()
        _directories.add(self)

    def get(self, key: str):
        """What the id's look-up answered, from memory when recent enough."""
        found = self._known.get(key)
        now = time.monotonic()
        if found is not None and found[0] > now:
            return found[1]
        with database.connection_context():     # not held while the signal is written
            value = self.look_up(key)
        with self._lock:
            if len(self._known) >= self.size:
                self._known.clear()      # rare; a cold cache only costs look-ups
            self._known[key] = (now + (self.ttl if value else self.unknown_ttl), value)
        return value

    def drop(self, key: str) -> None:
        with self._lock:
            self._known.pop(key, None)


def forget(key) -> None:
    """Something a gateway looks up changed or went: gateways in this process look it up
    again."""
    for found in list(_directories):
        found.drop(str(key))
