"""Email deliveries over the installation's SMTP server."""
from __future__ import annotations

import smtplib

from models import mail
from models.outbox import Message, TransportError


def send(message: Message, *, settings) -> str:
    try:
        return mail.send_mail(settings, message.address, message.subject, message.body,
                              message_id=f"<{message.delivery_id}@pinghome>")
    except (OSError, smtplib.SMTPException) as exc:
        raise TransportError(f"SMTP: {exc}") from exc
