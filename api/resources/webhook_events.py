"""The gateway's intake of incident webhook events (endpoint 92): like a heartbeat signal, no
database on the way once the webhook is known, and answered once the event is durable."""
from __future__ import annotations

import json

import falcon

from api.middleware import kept_body
from models import clock, errors, metrics
from models.incidents.webhooks import BODY_KEEP, Event
from models.intake import new_key
from models.texts import storable

_HEADERS = {"Pinghome-Body-Limit": str(BODY_KEEP)}
_ACCEPTED = metrics.SIGNALS.labels("webhook_event")


class WebhookEventIntake:
    PUBLIC = {"POST"}
    CUTS_BODY = True

    def __init__(self, directory, intake):
        self.directory = directory
        self.intake = intake

    def on_post(self, req, resp, webhook_id):
        """Submit an event: any content type (JSON payloads are held against the webhook
        rulesets, Alertmanager's and PagerDuty's among them); the first
        `Pinghome-Body-Limit` bytes of the body are kept, the rest is dropped. Answers 202
        with the event's id, the sender's IP and the content type."""
        resp.set_headers(_HEADERS)
        found = self.directory.find(webhook_id)
        if found is None:
            raise errors.NotFound("No such webhook.")
        key, _ = found
        body = kept_body(req, BODY_KEEP).decode("utf-8", errors="replace")
        event = Event(key=new_key(), webhook_id=key,
                      content_type=storable(req.content_type, 255) if req.content_type else None,
                      body=storable(body, BODY_KEEP), ip=req.remote_addr,
                      received_at=clock.now())
        self.intake.accept(event)
        _ACCEPTED.inc()
        # the answer written out: the same JSON for a fraction of a serialiser's cost
        resp.status = falcon.HTTP_202
        resp.content_type = falcon.MEDIA_JSON
        resp.data = b'{"message": "Accepted", "id": "%s", "ip": %s, "content_type": %s}' % (
            event.key.encode(), json.dumps(event.ip).encode(),
            json.dumps(event.content_type).encode())
