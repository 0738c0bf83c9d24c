"""The gateway's look-up of what it takes signals and events for (heartbeats, webhooks):
id -> what the gateway needs to know of it, from memory.

Each gateway process holds a copy of the whole table (`load_all`), read in one query at first
use and again every `ttl` seconds: most heartbeats signal rarely (every few minutes or hours),
so a cache of the ids seen lately would miss on nearly every signal, a Postgres query each
(with 100,000 heartbeats that made the gateway 0.18 x the bare app). An id not in the copy is
looked up on its own (one made since the copy was read), and kept as unknown for
`unknown_ttl` seconds when there is no such id. So a change made through the API reaches a
gateway in another process within `ttl`, one in the same process (embedded) at once, through
`forget`.

`find` takes an id as a request's path wrote it: text the copy holds costs one dict look-up,
and only other text is made canonical (`canonical`: a UUID's lower-case form, say) first."""
from __future__ import annotations

import logging
import threading
import time
import uuid
import weakref
from typing import Callable, Iterable

from models.db import database

log = logging.getLogger(__name__)
_directories: "weakref.WeakSet[Directory]" = weakref.WeakSet()
_MISSING = object()


class Directory:
    def __init__(self, look_up: Callable[[str], object],
                 load_all: Callable[[], Iterable[tuple[str, object]]], *, ttl: float = 60.0,
                 unknown_ttl: float = 5.0, unknown_size: int = 100_000,
                 canonical: Callable[[str], str | None] = str):
        """`look_up(id)` answers what to keep of an id, None for an unknown one; `load_all()`
        answers (id, what to keep) for every id; `canonical(text)` the id text names (None:
        it names none)."""
        self.look_up, self.load_all, self.canonical = look_up, load_all, canonical
        self.ttl, self.unknown_ttl, self.unknown_size = ttl, unknown_ttl, unknown_size
        self._known: dict[str, object] = {}
        self._unknown: dict[str, float] = {}        # id -> until when it is taken as unknown
        self._loaded_until = 0.0                    # when the copy is read again
        self._lock = threading.Lock()
        self._loading = threading.Lock()
        self._dropped: set[str] | None = None       # dropped while the copy was being read
        _directories.add(self)

    def find(self, text: str) -> tuple[str, object] | None:
        """(id, what its look-up answered) for the id `text` names; None for no such id."""
        if time.monotonic() < self._loaded_until:
            found = self._known.get(text, _MISSING)
            if found is not _MISSING:
                return text, found
        key = self.canonical(text)
        value = None if key is None else self.get(key)
        return None if value is None else (key, value)

    def get(self, key: str):
        """What the id's look-up answered, from the copy when it holds the id."""
        now = time.monotonic()
        if now >= self._loaded_until:
            self._reload(now)
        found = self._known.get(key, _MISSING)
        if found is not _MISSING:
            return found
        if self._unknown.get(key, 0.0) > now:
            return None
        with database.connection_context():     # not held while the signal is written
            value = self.look_up(key)
        with self._lock:
            if value:
                self._known[key] = value
            else:
                if len(self._unknown) >= self.unknown_size:
                    self._unknown.clear()        # ids made up by the thousand: forget them
                self._unknown[key] = now + self.unknown_ttl
        return value

    def _reload(self, now: float) -> None:
        """Reads the whole copy again; while one thread reads it, the others go on with the
        copy they have (they wait only for the first). With the database away, the copy
        read before stays."""
        if not self._loading.acquire(blocking=not self._loaded_until):
            return
        try:
            if time.monotonic() < self._loaded_until:
                return                      # another thread read it meanwhile
            with self._lock:
                self._dropped = set()
            try:
                with database.connection_context():
                    copy = dict(self.load_all())
            except Exception as exc:
                if not self._loaded_until:
                    raise
                # the database away: signals for the ids known go on being taken meanwhile
                log.warning("directory: the copy was not read again (%s); retrying", exc)
                self._loaded_until = now + min(self.ttl, 5.0)
                return
            with self._lock:
                for key in self._dropped:   # changed while it was read: look them up again
                    copy.pop(key, None)
                self._known, self._unknown, self._dropped = copy, {}, None
                self._loaded_until = now + self.ttl
        finally:
            self._loading.release()

    def drop(self, key: str) -> None:
        with self._lock:
            self._known.pop(key, None)
            self._unknown.pop(key, None)
            if self._dropped is not None:
                self._dropped.add(key)


def uuid_text(text) -> str | None:
    """The canonical text of the UUID `text` writes (any case, with or without hyphens or
    braces); None for text that is no UUID."""
    try:
        return str(uuid.UUID(str(text)))
    except ValueError:
        return None


def forget(key) -> None:
    """Something a gateway looks up changed or went: gateways in this process look it up
    again."""
    for found in list(_directories):
        found.drop(str(key))
