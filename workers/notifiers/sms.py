"""SMS deliveries through a provider with Twilio's REST API (its base URL is a setting, so a
Twilio-compatible provider or a local fake serves as well)."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

import urllib3

from models.outbox import Message, Refused, TransportError
from workers import netpolicy

log = logging.getLogger(__name__)
TIMEOUT = urllib3.Timeout(connect=5, read=15)


def send(message: Message, *, settings) -> str:
    if not settings.sends_sms:
        log.info("sms (no PINGHOME_TWILIO_* set) to %s: %s", message.address, message.body)
        return "logged"
    url = (f"{settings.twilio_api_url}/2010-04-01/Accounts/{settings.twilio_account_sid}"
           f"/Messages.json")
    headers = urllib3.make_headers(
        basic_auth=f"{settings.twilio_account_sid}:{settings.twilio_auth_token}")
    headers["Idempotency-Key"] = message.delivery_id
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    form = urlencode({"To": message.address, "From": settings.twilio_from,
                      "Body": message.body[:1600]})
    try:
        response = netpolicy.request("POST", url, body=form, headers=headers, timeout=TIMEOUT,
                                     allow_private=settings.allow_private_targets)
    except netpolicy.PrivateAddressRefused as exc:
        raise Refused(f"sms provider: {exc}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise TransportError(f"sms provider: {exc}") from exc
    if response.status not in (200, 201):
        raise TransportError(f"sms provider answered HTTP {response.status}: "
                             f"{response.data[:300].decode(errors='replace')}")
    return "sent"
