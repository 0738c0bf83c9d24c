"""The outbox: every outgoing message is a `Delivery` row first, then sent by the
`notifications.deliver` actor through a transport (mail, SMS, webhook, chat:
`workers/notifiers/`).

Account mail (codes, notices), invitations, channel verification and test messages and expiry
reminders all go through `queue` (incident notices will, with keys of their own). Each message
has a `key`, unique: what made it (`code:<one-time code id>`, `invitation:<id>:<n>`,
`test:<uuid>` ...). Queueing a key that exists queues nothing, so an operation that runs again
(a redelivered job, a sweep that overlaps) sends nothing twice.

The row makes a message durable (a broker outage or a killed worker delays it, never loses it:
the scheduler sends the job of a stalled row again) and its delivery idempotent. A row has
`status` (pending, then sent/logged/failed), `attempts`, `last_error`, `created_at`,
`last_attempt_at` and `claimed_until`. The job claims the row with a conditional update (two
deliveries never run at once and a sent row is never sent again), sends, then marks it. A
refusal leaves it pending for the job's retry, until the last of `mail_max_attempts`.

The transport is handed in by the actor, so the domain needs no network code.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import uuid
from typing import Callable

import peewee

from models import jobs, metrics
from models.db import UtcDateTimeField, UUIDModel, insert_rows

log = logging.getLogger(__name__)

ACTOR = "notifications.deliver"
CLAIM_SECONDS = 60       # longer than any transport may take (SMTP's timeout is 30 s)
STALLED_AFTER = dt.timedelta(minutes=15)   # longer than the actor's largest retry backoff


class Delivery(UUIDModel):
    """One message to send over a channel or, without one, to a bare address (an account's
    mail, an invitation's phone number). `key` names what made it; see `queue`."""
    key = peewee.CharField(max_length=200, unique=True)
    # deferred: channels import accounts, which queue mail here (resolved once
    # `models.channels.tables` is imported, which `models` does)
    channel = peewee.DeferredForeignKey("NotificationChannel", null=True, backref="deliveries",
                                        on_delete="CASCADE")
    type = peewee.CharField(max_length=16)
    address = peewee.TextField()
    kind = peewee.CharField(max_length=32)      # code, verification, invitation, test ...
    subject = peewee.CharField(max_length=255)
    body = peewee.TextField()
    payload = peewee.TextField(null=True)       # JSON for webhooks, when the kind has one
    status = peewee.CharField(max_length=16, index=True)   # pending, sent, logged, failed
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    created_at = UtcDateTimeField()
    last_attempt_at = UtcDateTimeField(null=True)
    claimed_until = UtcDateTimeField(null=True)
    sent_at = UtcDateTimeField(null=True)
    answer = peewee.TextField(null=True)        # JSON the peer answered, where the kind keeps it


class NotSent(Exception):
    """The message was refused or its peer unreachable; the job is retried."""


class TransportError(Exception):
    """The peer refused or could not be reached (transports raise it; the job retries)."""


class Refused(TransportError):
    """The network policy refused the peer's address: final, since a retry meets the same
    policy (and a redirect into a private network is no transient fault)."""


@dataclasses.dataclass(frozen=True)
class Message:
    """What a transport sends: plain data, no rows."""
    delivery_id: str
    type: str
    address: str
    subject: str
    body: str
    payload: dict | None          # the JSON a webhook receives
    signing_key: bytes | None     # webhooks sign their body with it


@dataclasses.dataclass(frozen=True)
class Sent:
    """What a transport answers when the peer's answer matters to the kind's outcome (the id
    of what it created): kept on the row as `answer` before the outcome is told."""
    status: str
    answer: dict


Transport = Callable[[Message], "str | Sent"]


@dataclasses.dataclass(frozen=True)
class Queued:
    """A message to queue (`queue_many`): over `channel`, a `NotificationChannel`, or to a
    bare `type` + `address`."""
    key: str
    kind: str
    subject: str
    body: str
    payload: dict | None = None
    channel: object = None
    type: str | None = None
    address: str | None = None


_QUEUE_FIELDS = ("id", "key", "channel", "type", "address", "kind", "subject", "body",
                 "payload", "status", "attempts", "created_at")


def queue(*, key: str, channel=None, type: str | None = None, address: str | None = None,
          kind: str, subject: str, body: str, payload: dict | None = None, now) -> Delivery:
    """Writes a message and asks for `notifications.deliver` once the transaction commits;
    answers its row. See `queue_many`."""
    queue_many([Queued(key=key, kind=kind, subject=subject, body=body, payload=payload,
                       channel=channel, type=type, address=address)], now=now)
    return Delivery.get(Delivery.key == key)


def queue_many(messages: list[Queued], *, now) -> dict[str, uuid.UUID]:
    """Writes messages in one statement and asks for their `notifications.deliver` jobs once
    the transaction commits; answers each key's delivery id.

    Insert-or-ignore on `key`: a message whose key exists already is not written again and
    nothing is sent; the existing row's id is answered. Of two transactions queueing one
    key, the second waits for the first and then finds its row. A kind that groups
    (`GROUPED`) gets one job per channel, and none where one of its messages waits already:
    that one's job takes the others along."""
    if not messages:
        return {}
    rows = [(uuid.uuid4(), m.key, m.channel.id if m.channel else None,
             m.channel.type if m.channel else m.type,
             m.channel.value if m.channel else m.address, m.kind, m.subject, m.body,
             json.dumps(m.payload) if m.payload is not None else None, "pending", 0, now)
            for m in messages]
    waiting = {(m.channel.id, m.kind) for m in messages
               if m.kind in GROUPED and m.channel is not None}
    waiting = {group for group in waiting if _waiting(*group) is not None}
    new = {Delivery.id.python_value(i) for (i,) in insert_rows(
        Delivery, [Delivery._meta.fields[name] for name in _QUEUE_FIELDS], rows,
        returning=(Delivery.id,))}      # (fields looked up now: `channel` is resolved late)
    ids = {key: delivery_id for delivery_id, key, *_ in rows if delivery_id in new}
    missing = [m.key for m in messages if m.key not in ids]
    for chunk in range(0, len(missing), 1000):
        ids.update(Delivery.select(Delivery.key, Delivery.id)
                   .where(Delivery.key.in_(missing[chunk:chunk + 1000])).tuples())
    for message, (delivery_id, *_) in zip(messages, rows):
        if delivery_id not in new:
            continue
        group = (message.channel.id, message.kind) if message.channel is not None else None
        if message.kind not in GROUPED or group is None:
            jobs.defer(ACTOR, str(delivery_id))
        elif group not in waiting:
            jobs.defer(ACTOR, str(delivery_id))    # the first of its channel's; its job
            waiting.add(group)                     # takes the others along
    return ids


def deliver(delivery_id: str, *, transport: Transport, settings, now,
            again: bool = False) -> str:
    """Sends one message, or, for a kind that groups (`GROUPED`), every message of its kind
    waiting for its channel, as one. At-least-once only if the worker dies between the
    peer's acceptance and the mark; the delivery id travels as idempotency key (Message-ID,
    the webhook's `X-Pinghome-Delivery`, the SMS provider's `Idempotency-Key`), the same on
    every attempt. Answers the row's status ("skipped" if it is not pending, or claimed by a
    running attempt; "later" when its channel was sent to too recently). A job that runs
    `again` (redelivered from a killed worker) and finds the row claimed, by the attempt
    that died with that worker, comes back once the claim has lapsed."""
    row = Delivery.get_or_none(Delivery.id == delivery_id)
    if row is None or row.status != "pending":
        return "skipped"
    window = GROUPED.get(row.kind)
    if window is not None and row.channel_id is not None:
        wait = _wait(row, window, now)
        if wait > 0:
            jobs.defer(ACTOR, str(row.id), delay_seconds=wait)
            return "later"
        rows = _claim_group(row, now)
    else:
        rows = [Delivery.get_by_id(row.id)] if _claim(delivery_id, now) else []
    if not rows:        # claimed by another attempt (what it claimed with it, it sends)
        return _after_held(row.id, now) if again else "skipped"
    first = rows[0]
    subject, body, payload = _combined(rows)
    message = Message(delivery_id=str(first.id), type=first.type, address=first.address,
                      subject=subject, body=body, payload=payload,
                      signing_key=signing_key(settings, first.channel_id)
                      if first.channel_id else None)
    render = _renderers.get(first.kind)
    if render is not None:
        message = render(message, settings)
    try:
        status = transport(message)
    except TransportError as exc:
        return _record_failure(rows, exc, max_attempts=settings.mail_max_attempts,
                               final=isinstance(exc, Refused), now=now)
    answer = None
    if isinstance(status, Sent):
        status, answer = status.status, json.dumps(status.answer)
        for row in rows:
            row.answer = answer
    (Delivery.update(status=status, sent_at=now, claimed_until=None, last_error=None,
                     answer=answer)
     .where(Delivery.id.in_([r.id for r in rows])).execute())
    metrics.DELIVERIES.labels(first.type, status).inc(len(rows))
    _tell_outcome(rows, status, None, now=now)
    if window is not None and first.channel_id is not None:
        rest = _waiting(first.channel_id, first.kind)      # queued while this one was sent
        if rest is not None:
            jobs.defer(ACTOR, str(rest), delay_seconds=window.total_seconds())
    return status


# kinds whose messages to one channel are sent together, at most once per window: an outage
# that opens many incidents at once sends a handful of messages per channel, not thousands
GROUPED = {"incident": dt.timedelta(seconds=10)}
GROUP_SIZE = 10_000       # messages sent as one at the most
GROUP_SHOWN = 50          # of which a mail or chat message spells out this many
# kind -> what to do once its messages are sent or failed for good:
# outcome(rows, status, error, now=...)
_outcomes: dict[str, Callable] = {}
_renderers: dict[str, Callable] = {}


def on_outcome(kind: str, outcome: Callable) -> None:
    """Registers what the layer that queued messages of `kind` does with their outcome."""
    _outcomes[kind] = outcome


def on_render(kind: str, render: Callable) -> None:
    """Registers `render(message, settings) -> Message`, which completes each message of
    `kind` when it is sent with what only the settings know (the installation's address,
    links signed with its key): the layer that queues them may have no settings at hand (a
    rule run's state-change listeners)."""
    _renderers[kind] = render


def _after_held(delivery_id, now) -> str:
    """The row is claimed by an attempt that died, or done: the job comes back once the
    claim has lapsed, rather than leave the row to the stalled sweep."""
    row = Delivery.get_or_none(Delivery.id == delivery_id)
    if row is None or row.status != "pending" or row.claimed_until is None:
        return "skipped"
    jobs.defer(ACTOR, str(row.id), delay_seconds=(row.claimed_until - now).total_seconds() + 1)
    return "later"


def told_for(key_prefix: str) -> list[Delivery]:
    """One message for each channel and address told (sent, or on its way) under keys
    starting with `key_prefix`: every channel told of an incident, say."""
    found: dict = {}
    for row in (Delivery.select().where(Delivery.key.startswith(key_prefix),
                                        Delivery.status != "failed")
                .order_by(Delivery.created_at)):
        found.setdefault(row.channel_id or (row.type, row.address), row)
    return list(found.values())


def _waiting(channel_id, kind: str):
    """The id of a message of `kind` waiting for the channel (not claimed), else None: its
    job, or the flush planned after the last send, will take every waiting one along."""
    query = Delivery.select(Delivery.id).where(
        Delivery.channel == channel_id, Delivery.kind == kind, Delivery.status == "pending",
        Delivery.claimed_until.is_null())
    found = query.order_by(Delivery.created_at).first()
    return None if found is None else found.id


def _wait(row, window: dt.timedelta, now) -> float:
    """Seconds until the row's channel may be sent to again."""
    last = (Delivery.select(peewee.fn.MAX(Delivery.sent_at))
            .where(Delivery.channel == row.channel_id, Delivery.kind == row.kind).scalar())
    last = Delivery.sent_at.python_value(last) if last is not None else None
    return 0.0 if last is None else (last + window - now).total_seconds()


def _claim_group(row, now) -> list[Delivery]:
    """Claims the messages of the row's kind waiting for its channel, oldest first; the row
    among them unless another attempt holds it."""
    waiting = [r.id for r in Delivery.select(Delivery.id).where(
        Delivery.channel == row.channel_id, Delivery.kind == row.kind,
        Delivery.status == "pending",
        Delivery.claimed_until.is_null() | (Delivery.claimed_until < now))
        .order_by(Delivery.created_at).limit(GROUP_SIZE)]
    if row.id not in waiting:
        waiting.append(row.id)
    claimed = (Delivery.update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                               attempts=Delivery.attempts + 1, last_attempt_at=now)
               .where(Delivery.id.in_(waiting), Delivery.status == "pending",
                      Delivery.claimed_until.is_null() | (Delivery.claimed_until < now))
               .returning(Delivery.id).execute())
    ids = [found.id for found in claimed]
    return list(Delivery.select().where(Delivery.id.in_(ids)).order_by(Delivery.created_at))


def _combined(rows: list[Delivery]) -> tuple[str, str, dict | None]:
    """The message of one row, or of several as one: their subjects counted, their bodies
    one after the other, their webhook payloads in one list."""
    payloads = [json.loads(r.payload) if r.payload else None for r in rows]
    if len(rows) == 1:
        return rows[0].subject, rows[0].body, payloads[0]
    subject = f"{len(rows)} notices: {rows[0].subject}"[:255]
    body = "\n---\n\n".join(r.body for r in rows[:GROUP_SHOWN])
    if len(rows) > GROUP_SHOWN:
        body += f"\n---\n\n... and {len(rows) - GROUP_SHOWN} more.\n"
    return subject, body, {"type": "grouped", "count": len(rows), "messages": payloads}


def _tell_outcome(rows: list[Delivery], status: str, error: str | None, *, now) -> None:
    outcome = _outcomes.get(rows[0].kind)
    if outcome is not None:
        outcome(rows, status, error, now=now)


def requeue_stalled(*, now) -> int:
    """Re-sends the job of pending rows whose job was lost (broker down at enqueue, a dropped
    message); safe to repeat since delivery claims before it sends."""
    stalled = (Delivery.select(Delivery.id)
               .where(Delivery.status == "pending",
                      peewee.fn.COALESCE(Delivery.last_attempt_at, Delivery.created_at)
                      < now - STALLED_AFTER)
               .limit(1000))
    count = 0
    for row in stalled:
        jobs.defer(ACTOR, str(row.id))
        count += 1
    return count


def signing_key(settings, channel_id) -> bytes:
    """The key a webhook channel's deliveries are signed with (shown to its owner)."""
    return hmac.new(settings.secret_key.encode(), f"webhook:{channel_id}".encode(),
                    hashlib.sha256).digest()


def signature(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def _claim(delivery_id, now) -> bool:
    """Claims a pending row for one attempt; False if it is sent, gone or busy."""
    claimed = (Delivery.update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                               attempts=Delivery.attempts + 1, last_attempt_at=now)
               .where(Delivery.id == delivery_id, Delivery.status == "pending",
                      Delivery.claimed_until.is_null() | (Delivery.claimed_until < now))
               .execute())
    return claimed == 1


def _record_failure(rows: list[Delivery], error: Exception, *, max_attempts: int,
                    final: bool, now) -> str:
    """Leaves the rows pending and raises `NotSent` (the job retries), or marks them failed
    after the last attempt (or at once, `final`) and answers "failed"."""
    first = rows[0]                # read after its claim counted this attempt
    final = final or first.attempts >= max_attempts
    status = "failed" if final else "pending"
    (Delivery.update(status=status, last_error=str(error)[:2000], claimed_until=None)
     .where(Delivery.id.in_([r.id for r in rows])).execute())
    metrics.DELIVERIES.labels(first.type, "failed" if final else "retried").inc(len(rows))
    if final:
        log.error("delivery %s (%s) failed for good after %d attempts: %s", first.id,
                  first.kind, first.attempts, error)
        _tell_outcome(rows, status, str(error)[:2000], now=now)
        return status
    raise NotSent(f"delivery {first.id} not sent (attempt {first.attempts}): "
                  f"{error}") from error
