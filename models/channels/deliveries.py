"""Sending messages over channels: queued as `Delivery` rows, sent by `notifications.deliver`.

The transport (mail, SMS, webhook, chat) is handed in by the actor, so the domain needs no
network code: `deliver` claims the row, calls the transport, marks the row.
"""
from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from typing import Callable

from models import jobs, outbox, ratelimit
from models.channels.tables import Delivery, NotificationChannel

ACTOR = "notifications.deliver"


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


Transport = Callable[[Message], str]


def queue_delivery(*, channel: NotificationChannel | None = None, type: str | None = None,
                   address: str | None = None, kind: str, subject: str, body: str,
                   payload: dict | None = None, now) -> Delivery:
    """Writes a delivery (over `channel`, or to a bare `type` + `address`) and asks for it to
    be sent once the transaction commits."""
    row = Delivery.create(channel=channel, type=channel.type if channel else type,
                          address=channel.value if channel else address, kind=kind,
                          subject=subject, body=body,
                          payload=json.dumps(payload) if payload is not None else None,
                          status="pending", created_at=now)
    jobs.defer(ACTOR, str(row.id))
    return row


def limit_sends(organisation_id, destination: str, *, settings) -> None:
    """Counts one message sent on request (a channel's verification code or test message, an
    invitation or its reminder) to `destination` (a channel, or an invited address, as a
    string unique within the organisation) and to the organisation; `TooManyRequests` once
    either is spent. Nobody has proved such a destination yet, so this is what keeps
    Pinghome from being used to mail, text (paid) or post to strangers."""
    digest = hashlib.sha256(destination.encode()).hexdigest()[:32]
    ratelimit.hit_all((settings.channel_send_rate_limit, "destination-send",
                       f"{organisation_id}:{digest}"),
                      (settings.organisation_send_rate_limit, "organisation-send",
                       str(organisation_id)))


def deliver(delivery_id: str, *, transport: Transport, settings, now) -> str:
    """Sends one delivery. At-least-once only if the worker dies between the peer's
    acceptance and the mark; the delivery id travels as idempotency key (Message-ID, the
    webhook's `X-Pinghome-Delivery`). Answers the row's status ("skipped" if not pending)."""
    if not outbox.claim(Delivery, delivery_id, now):
        return "skipped"
    row = Delivery.get_by_id(delivery_id)
    message = Message(delivery_id=str(row.id), type=row.type, address=row.address,
                      subject=row.subject, body=row.body,
                      payload=json.loads(row.payload) if row.payload else None,
                      signing_key=signing_key(settings, row.channel_id) if row.channel_id else None)
    try:
        status = transport(message)
    except TransportError as exc:
        return outbox.record_failure(Delivery, row, exc, max_attempts=settings.mail_max_attempts,
                                     final=isinstance(exc, Refused))
    outbox.mark_done(Delivery, row.id, status, now)
    return status


def requeue_stalled(*, now) -> int:
    return outbox.requeue_stalled(Delivery, ACTOR, now=now)


def signing_key(settings, channel_id) -> bytes:
    """The key a webhook channel's deliveries are signed with (shown to its owner)."""
    return hmac.new(settings.secret_key.encode(), f"webhook:{channel_id}".encode(),
                    hashlib.sha256).digest()


def signature(key: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
