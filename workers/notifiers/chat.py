"""Chat deliveries (Slack, Discord, Microsoft Teams, Telegram) through Apprise."""
from __future__ import annotations

import logging

import apprise

from models.channels import apprise_url
from models.outbox import Message, Refused, TransportError
from workers import netpolicy


def send(message: Message, *, allow_private: bool) -> str:
    """Apprise connects (and follows redirects) on its own, through the network policy: a
    refused address fails the delivery for good."""
    notifier = apprise.Apprise()
    if not notifier.add(apprise_url(message.type, message.address)):
        raise TransportError(f"{message.type}: Apprise cannot use this address")
    with apprise.LogCapture(level=logging.WARNING) as logs, \
            netpolicy.policy(allow_private=allow_private) as policy:
        delivered = notifier.notify(title=message.subject, body=message.body)
    if policy.refused:
        raise Refused(f"{message.type}: {policy.refused}")
    if not delivered:
        raise TransportError(f"{message.type}: {logs.getvalue().strip()[:500] or 'not delivered'}")
    return "sent"
