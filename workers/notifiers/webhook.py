"""Webhook deliveries: a signed JSON POST to the channel's URL."""
from __future__ import annotations

import json

import urllib3

from models.outbox import Message, Refused, TransportError, signature
from workers import netpolicy

TIMEOUT = urllib3.Timeout(connect=5, read=10)


def send(message: Message, *, allow_private: bool) -> str:
    payload = message.payload or {"subject": message.subject, "body": message.body}
    body = json.dumps({**payload, "delivery_id": message.delivery_id}).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Pinghome-Webhook/1",
               "X-Pinghome-Delivery": message.delivery_id,
               "Idempotency-Key": message.delivery_id}
    if message.signing_key:
        headers["X-Pinghome-Signature"] = signature(message.signing_key, body)
    try:
        response = netpolicy.request("POST", message.address, body=body, headers=headers,
                                     timeout=TIMEOUT, allow_private=allow_private)
    except netpolicy.PrivateAddressRefused as exc:
        raise Refused(f"webhook: {exc}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise TransportError(f"webhook: {exc}") from exc
    if not 200 <= response.status < 300:
        raise TransportError(f"webhook answered HTTP {response.status}: "
                             f"{response.data[:200].decode(errors='replace')}")
    return "sent"
