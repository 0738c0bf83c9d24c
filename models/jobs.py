"""How domain operations ask for background work without importing the broker.

`models` may not import `workers`, so the broker registers a sender here at start-up. A job
asked for inside a transaction is sent only after that transaction commits (and never if it
rolls back), so a worker never sees ids of rows that do not exist yet.
"""
from __future__ import annotations

import logging
from typing import Callable

from models.db import database

log = logging.getLogger(__name__)

Sender = Callable[[str, tuple, int | None], None]     # actor, args, delay in ms
_sender: Sender | None = None


def set_sender(sender: Sender | None) -> None:
    global _sender
    _sender = sender


def defer(actor_name: str, *args, delay_seconds: float | None = None) -> None:
    """Sends `actor_name(*args)` once the current transaction commits (now, outside one),
    to run `delay_seconds` later if given.

    At-most-once by itself: a crash between commit and send loses the message, so every
    job that must happen also leaves a row that a scheduler sweep re-sends (see `outbox`).
    """
    delay_ms = None if delay_seconds is None else max(0, int(delay_seconds * 1000))

    def send():
        if _sender is None:
            log.warning("no broker configured; job %s%r not sent", actor_name, args)
            return
        try:
            _sender(actor_name, args, delay_ms)
        except Exception:   # the broker is down: the sweep picks the row up later
            log.exception("could not enqueue %s%r", actor_name, args)

    database.after_commit(send)
