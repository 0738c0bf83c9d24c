"""Transports: how a delivery reaches its peer. Plain functions over `models.outbox.Message`;
each raises `TransportError` when the peer refuses or cannot be reached (the job retries)."""
from __future__ import annotations

from models.channels import CHAT_TYPES
from models.outbox import Message, Sent
from workers.notifiers import chat, email, sms, statuspage, webhook


def send(message: Message, *, settings) -> str | Sent:
    """Sends `message` by its type; answers "sent" (or "logged" where nothing is configured)."""
    if message.type == "email":
        return email.send(message, settings=settings)
    if message.type == "sms":
        return sms.send(message, settings=settings)
    if message.type == "webhook":
        return webhook.send(message, allow_private=settings.allow_private_targets)
    if message.type == "statuspage":
        return statuspage.send(message, settings=settings)
    if message.type in CHAT_TYPES:
        return chat.send(message, allow_private=settings.allow_private_targets)
    raise ValueError(f"no transport for {message.type!r}")
