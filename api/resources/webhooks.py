"""Incident webhooks on the API: endpoints 89-91."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import webhooks as schemas
from api.schemas.base import Page, page_of
from models import clock
from models.incidents import webhooks


class WebhookCollection(Resource):
    POST = schemas.WebhookCreate
    STATUS = {"POST": 201}

    def on_post(self, req, resp):
        """Create a webhook (managers and owners) of `team_id`, by default your first team;
        alert sources post events to its `url`."""
        body = req.context.body
        webhook = webhooks.create_webhook(req.context.caller, name=body.name,
                                          description=body.description, team_id=body.team_id,
                                          now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.webhook_out(webhook, gateway_url=self.settings.gateway_url)


class WebhookList(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp):
        """The webhooks of your teams, each with the `url` senders post events to."""
        found = webhooks.list_webhooks(req.context.caller)
        resp.media = page_of(found, req.context.query, lambda w: schemas.webhook_out(
            w, gateway_url=self.settings.gateway_url))


class WebhookEvents(Resource):
    GET_QUERY = schemas.WebhookEventsQuery

    def on_get(self, req, resp, webhook_id):
        """The events posted to a webhook, newest first (content type, body, IP, received
        time); the next page starts before the `received_at` of the last one
        (`last_received_at`)."""
        query = req.context.query
        found = webhooks.list_events(req.context.caller, webhook_id, limit=query.limit,
                                     before=query.last_received_at)
        resp.media = {"data": [schemas.event_out(e) for e in found], "limit": query.limit}
