"""Chat deliveries (Slack, Discord, Microsoft Teams, Telegram) through Apprise."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import apprise

from models.channels import Message, TransportError, apprise_url
from workers import netpolicy


def send(message: Message, *, allow_private: bool) -> str:
    url = apprise_url(message.type, message.address)
    if message.type == "msteams":   # a workflow URL may name any host: hold it to the policy
        try:
            netpolicy.resolve(urlsplit(url).hostname, 443, allow_private=allow_private)
        except OSError as exc:
            raise TransportError(f"{message.type}: {exc}") from exc
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise TransportError(f"{message.type}: Apprise cannot use this address")
    with apprise.LogCapture(level=logging.WARNING) as logs:
        delivered = notifier.notify(title=message.subject, body=message.body)
    if not delivered:
        raise TransportError(f"{message.type}: {logs.getvalue().strip()[:500] or 'not delivered'}")
    return "sent"
