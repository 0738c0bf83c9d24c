"""Uptime monitor integrations: endpoints 64-67."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import integrations as schemas
from api.schemas.base import Page, page_of
from models import clock, integrations


class IntegrationList(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp, monitor_id):
        """The monitor's integrations (never their API keys), paged."""
        found = integrations.list_integrations(req.context.caller, monitor_id)
        resp.media = page_of(found, req.context.query, schemas.integration_out)


class IntegrationCollection(Resource):
    POST = schemas.IntegrationCreate
    STATUS = {"POST": 201}

    def on_post(self, req, resp, monitor_id):
        """Add a Statuspage integration: an incident is opened on the page `integration` for
        the components `items` when the monitor goes down, and resolved when it is up."""
        integration = integrations.create_integration(
            req.context.caller, monitor_id, req.context.body.given(), settings=self.settings,
            now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.integration_out(integration)


class IntegrationItem(Resource):
    PUT = schemas.IntegrationUpdate

    def on_get(self, req, resp, monitor_id, integration_id):
        """One of the monitor's integrations."""
        resp.media = schemas.integration_out(
            integrations.integration_for(req.context.caller, monitor_id, integration_id))

    def on_put(self, req, resp, monitor_id, integration_id):
        """Update an integration: the given fields change, the others (and the key) stay."""
        integration = integrations.update_integration(
            req.context.caller, monitor_id, integration_id, req.context.body.given(),
            settings=self.settings, now=clock.now())
        resp.media = schemas.integration_out(integration)   # (its `message` is the field)

    def on_delete(self, req, resp, monitor_id, integration_id):
        """Delete an integration (an incident it opened stays as it is on Statuspage)."""
        integrations.delete_integration(req.context.caller, monitor_id, integration_id)
        resp.media = {"message": "Integration deleted."}
