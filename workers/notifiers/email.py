"""Email deliveries over the installation's SMTP server (`SMTP_URL`), or to the log without one."""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlsplit

from models.outbox import Message, TransportError

log = logging.getLogger(__name__)
LIST_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")   # the only ones a message sets


def send(message: Message, *, settings) -> str:
    """Sends the message with its delivery id as Message-ID, so a receiver can tell a
    message sent again (a worker killed after the server accepted it) from a new one."""
    try:
        return send_mail(settings, message.address, message.subject, message.body,
                         message_id=f"<{message.delivery_id}@pinghome>",
                         headers=(message.payload or {}).get("headers"))
    except (OSError, smtplib.SMTPException) as exc:
        raise TransportError(f"SMTP: {exc}") from exc


def send_mail(settings, to_address: str, subject: str, body: str, *, message_id: str,
              headers: dict | None = None) -> str:
    """Sends one message over `SMTP_URL`, or logs it when there is none; answers "sent" or
    "logged". `headers`: the `List-Unsubscribe` ones, where the message has them. Raises
    `OSError` or `smtplib.SMTPException` when the server refuses."""
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
    for name in LIST_HEADERS:
        if (headers or {}).get(name):
            message[name] = headers[name]
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
