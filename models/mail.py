"""Outgoing mail: every message is a row in the outbox first, then sent by the `mail.send` actor.

The row makes mail durable (a broker outage or a killed worker delays a message, never loses
it) and makes delivery idempotent (a redelivered job finds the row sent and does nothing).
"""
from __future__ import annotations

import datetime as dt
import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

import peewee

from models import jobs
from models.db import UtcDateTimeField, UUIDModel

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
STALLED_AFTER = dt.timedelta(minutes=15)   # longer than the actor's largest retry backoff


class MailOutbox(UUIDModel):
    to_address = peewee.CharField(max_length=254)
    subject = peewee.CharField(max_length=255)
    body = peewee.TextField()
    status = peewee.CharField(max_length=16, index=True)   # pending, sent, logged, failed
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    created_at = UtcDateTimeField()
    last_attempt_at = UtcDateTimeField(null=True)
    claimed_until = UtcDateTimeField(null=True)
    sent_at = UtcDateTimeField(null=True)


class MailNotSent(Exception):
    """The SMTP server refused or could not be reached; the job is retried."""


def queue_mail(to_address: str, subject: str, body: str, *, now) -> MailOutbox:
    """Writes the message to the outbox and asks for `mail.send` once the transaction commits."""
    row = MailOutbox.create(to_address=to_address, subject=subject, body=body,
                            status="pending", created_at=now)
    jobs.defer("mail.send", str(row.id))
    return row


def deliver(outbox_id: str, *, settings, now) -> str:
    """Sends one outbox message over SMTP (or writes it to the log without `SMTP_URL`).

    At-least-once: a worker killed after the server accepted the message but before the row
    is marked sends it again; the Message-ID is the row id so receivers can tell. Two
    deliveries never run at once (claimed by a conditional update). Returns the row's status.
    """
    if not _claim(outbox_id, now):
        return "skipped"
    row = MailOutbox.get_by_id(outbox_id)
    try:
        if settings.smtp_url:
            _send_smtp(settings.smtp_url, settings.mail_from, row)
            status = "sent"
        else:
            log.info("mail (no SMTP_URL set) to %s: %s\n%s", row.to_address, row.subject, row.body)
            status = "logged"
    except (OSError, smtplib.SMTPException) as exc:
        return _record_failure(row, exc, settings, now)
    (MailOutbox.update(status=status, sent_at=now, claimed_until=None, last_error=None)
     .where(MailOutbox.id == row.id).execute())
    return status


def _claim(outbox_id, now) -> bool:
    claimed = (MailOutbox.update(claimed_until=now + dt.timedelta(seconds=CLAIM_SECONDS),
                                 attempts=MailOutbox.attempts + 1, last_attempt_at=now)
               .where(MailOutbox.id == outbox_id, MailOutbox.status == "pending",
                      MailOutbox.claimed_until.is_null() | (MailOutbox.claimed_until < now))
               .execute())
    return claimed == 1


def _record_failure(row, exc, settings, now) -> str:
    final = row.attempts >= settings.mail_max_attempts
    status = "failed" if final else "pending"
    (MailOutbox.update(status=status, last_error=str(exc)[:2000], claimed_until=None)
     .where(MailOutbox.id == row.id).execute())
    if final:
        log.error("mail %s to %s failed for good after %d attempts: %s",
                  row.id, row.to_address, row.attempts, exc)
        return status
    raise MailNotSent(f"mail {row.id} not sent (attempt {row.attempts}): {exc}") from exc


def requeue_stalled(*, now) -> int:
    """Re-sends `mail.send` for pending messages whose job was lost (broker down at enqueue,
    a message dropped); safe to repeat since `deliver` claims before it sends."""
    cutoff = now - STALLED_AFTER
    stalled = (MailOutbox.select(MailOutbox.id)
               .where(MailOutbox.status == "pending",
                      peewee.fn.COALESCE(MailOutbox.last_attempt_at, MailOutbox.created_at) < cutoff)
               .limit(1000))
    count = 0
    for row in stalled:
        jobs.defer("mail.send", str(row.id))
        count += 1
    return count


def _send_smtp(url: str, sender: str, row: MailOutbox) -> None:
    parts = urlsplit(url)
    options = parse_qs(parts.query)
    host, port = parts.hostname or "localhost", parts.port
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = f"<{row.id}@pinghome>"
    message.set_content(row.body)
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(host, port or 465, timeout=30,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port or 25, timeout=30)
    with client:
        if parts.scheme == "smtp" and options.get("starttls", ["false"])[0].lower() == "true":
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
