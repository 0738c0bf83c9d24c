"""What the outboxes (account mail, channel deliveries) share: rows that are messages to send.

A message row has `status` (pending, then sent/logged/failed), `attempts`, `last_error`,
`created_at`, `last_attempt_at` and `claimed_until`. A job sends one row: it claims it with a
conditional update (so two deliveries never run at once and a sent row is never sent again),
sends, then marks it. A refusal leaves it pending for the job's retry, until the last attempt.
"""
from __future__ import annotations

import datetime as dt
import logging

import peewee

from models import jobs

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
STALLED_AFTER = dt.timedelta(minutes=15)   # longer than the actors' largest retry backoff


class NotSent(Exception):
    """The message was refused or its peer unreachable; the job is retried."""


def claim(model, row_id, now) -> bool:
    """Claims a pending row for one delivery attempt; False if it is sent, gone or busy."""
    claimed = (model.update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                            attempts=model.attempts + 1, last_attempt_at=now)
               .where(model.id == row_id, model.status == "pending",
                      model.claimed_until.is_null() | (model.claimed_until < now))
               .execute())
    return claimed == 1


def mark_done(model, row_id, status: str, now) -> None:
    (model.update(status=status, sent_at=now, claimed_until=None, last_error=None)
     .where(model.id == row_id).execute())


def record_failure(model, row, error: Exception, *, max_attempts: int,
                   final: bool = False) -> str:
    """Leaves the row pending and raises `NotSent` (the job retries), or marks it failed
    after the last attempt (or at once, `final`) and answers "failed"."""
    final = final or row.attempts >= max_attempts
    status = "failed" if final else "pending"
    (model.update(status=status, last_error=str(error)[:2000], claimed_until=None)
     .where(model.id == row.id).execute())
    if final:
        log.error("%s %s failed for good after %d attempts: %s", model.__name__, row.id,
                  row.attempts, error)
        return status
    raise NotSent(f"{model.__name__} {row.id} not sent (attempt {row.attempts}): {error}") from error


def requeue_stalled(model, actor_name: str, *, now) -> int:
    """Re-sends the job of pending rows whose job was lost (broker down at enqueue, a dropped
    message); safe to repeat since delivery claims before it sends."""
    cutoff = now - STALLED_AFTER
    stalled = (model.select(model.id)
               .where(model.status == "pending",
                      peewee.fn.COALESCE(model.last_attempt_at, model.created_at) < cutoff)
               .limit(1000))
    count = 0
    for row in stalled:
        jobs.defer(actor_name, str(row.id))
        count += 1
    return count
