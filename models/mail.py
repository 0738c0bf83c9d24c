"""Account mail (codes, invitations): every message is an outbox row first, then sent by the
`mail.send` actor.

The row makes mail durable (a broker outage or a killed worker delays a message, never loses
it) and makes delivery idempotent (a redelivered job finds the row sent and does nothing).
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

import peewee

from models import jobs, outbox
from models.db import UtcDateTimeField, UUIDModel

log = logging.getLogger(__name__)

MailNotSent = outbox.NotSent


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
    deliveries never run at once. Returns the row's status ("skipped" if not pending).
    """
    if not outbox.claim(MailOutbox, outbox_id, now):
        return "skipped"
    row = MailOutbox.get_by_id(outbox_id)
    try:
        status = send_mail(settings, row.to_address, row.subject, row.body,
                           message_id=f"<{row.id}@pinghome>")
    except (OSError, smtplib.SMTPException) as exc:
        return outbox.record_failure(MailOutbox, row, exc,
                                     max_attempts=settings.mail_max_attempts)
    outbox.mark_done(MailOutbox, row.id, status, now)
    return status


def requeue_stalled(*, now) -> int:
    return outbox.requeue_stalled(MailOutbox, "mail.send", now=now)


def send_mail(settings, to_address: str, subject: str, body: str, *, message_id: str) -> str:
    """Sends one message over `SMTP_URL`, or logs it when there is none; answers "sent" or
    "logged". Raises `OSError` or `smtplib.SMTPException` when the server refuses."""
    if not settings.smtp_url:
        log.info("mail (no SMTP_URL set) to %s: %s\n%s", to_address, subject, body)
        return "logged"
    parts = urlsplit(settings.smtp_url)
    options = parse_qs(parts.query)
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    message.set_content(body)
    host = parts.hostname or "localhost"
    if parts.scheme == "smtps":
        client = smtplib.SMTP_SSL(host, parts.port or 465, timeout=30,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, parts.port or 25, timeout=30)
    with client:
        if parts.scheme == "smtp" and options.get("starttls", ["false"])[0].lower() == "true":
            client.starttls(context=ssl.create_default_context())
        if parts.username:
            client.login(unquote(parts.username), unquote(parts.password or ""))
        client.send_message(message)
    return "sent"
