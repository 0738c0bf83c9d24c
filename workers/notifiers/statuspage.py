"""Statuspage deliveries: create or resolve an incident over Atlassian Statuspage's REST API v1
(`PINGHOME_STATUSPAGE_API_URL`), under the network policy as webhooks are."""
from __future__ import annotations

import json

import urllib3

from models.integrations import unseal
from models.outbox import Message, Refused, Sent, TransportError
from workers import netpolicy

TIMEOUT = urllib3.Timeout(connect=5, read=15)


def send(message: Message, *, settings) -> Sent:
    """POSTs a new incident and answers its id, or PATCHes the incident the payload names
    (`incident_id`, a resolve). At-least-once: Statuspage takes no idempotency
    key, so a worker killed between its answer and the mark opens a second one on retry."""
    payload = message.payload or {}
    try:
        api_key = unseal(settings, payload["sealed_key"])
    except ValueError as exc:
        raise Refused(f"statuspage: {exc}") from exc
    base = f"{settings.statuspage_api_url}/v1/pages/{message.address}/incidents"
    method, url = (("PATCH", f"{base}/{payload['incident_id']}") if payload.get("incident_id")
                   else ("POST", base))
    headers = {"Content-Type": "application/json", "Authorization": f"OAuth {api_key}",
               "User-Agent": "Pinghome-Statuspage/1"}
    body = json.dumps({"incident": payload["incident"]}).encode()
    try:
        response = netpolicy.request(method, url, body=body, headers=headers, timeout=TIMEOUT,
                                     allow_private=settings.allow_private_targets)
    except netpolicy.PrivateAddressRefused as exc:
        raise Refused(f"statuspage: {exc}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise TransportError(f"statuspage: {exc}") from exc
    if response.status in (401, 403, 404, 422):      # a wrong key, page or component: final
        raise Refused(f"statuspage answered HTTP {response.status}: "
                      f"{response.data[:200].decode(errors='replace')}")
    if not 200 <= response.status < 300:
        raise TransportError(f"statuspage answered HTTP {response.status}: "
                             f"{response.data[:200].decode(errors='replace')}")
    try:
        answer = json.loads(response.data)
    except ValueError:
        answer = {}
    return Sent("sent", {"id": answer.get("id")} if isinstance(answer, dict) else {})
