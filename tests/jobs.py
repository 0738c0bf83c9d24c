"""Holding back the jobs a domain operation asks for, to call the job's operation by hand."""
from __future__ import annotations

import contextlib

from models import jobs


@contextlib.contextmanager
def held_jobs():
    """Within the block, deferred jobs are recorded instead of sent; yields the record."""
    record: list[tuple[str, tuple]] = []
    previous = jobs._sender
    jobs.set_sender(lambda actor_name, args, delay_ms=None: record.append((actor_name, args)))
    try:
        yield record
    finally:
        jobs.set_sender(previous)
