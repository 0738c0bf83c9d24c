"""Server monitors: endpoints 68-73 on the API, and the agent's push on the gateway."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import servers as schemas
from api.schemas.base import Page, page_of
from models import clock
from models.metrics import SIGNALS
from models.servers import metrics, operations as servers, reports


class ServerCollection(Resource):
    POST = schemas.ServerCreate
    DELETE_QUERY = schemas.ServerIds
    STATUS = {"POST": 201}

    def on_post(self, req, resp):
        """Set up a server monitor; it is `pending` until its agent first reports."""
        server = servers.create_server(req.context.caller, req.context.body.given(),
                                       now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.server_out(server, self.settings)

    def on_delete(self, req, resp):
        """Delete several server monitors: `?id=...&id=...`; all of them or none."""
        count = servers.delete_servers(req.context.caller, req.context.query.id)
        resp.media = {"message": f"{count} server monitor(s) deleted.",
                      "ids": [str(i) for i in dict.fromkeys(req.context.query.id)]}


class ServerItem(Resource):
    PUT = schemas.ServerUpdate

    def on_get(self, req, resp, server_id):
        """A server monitor; for managers and owners also its push key and the command that
        installs its agent."""
        server, shows_key = servers.server_view(req.context.caller, server_id)
        resp.media = schemas.server_out(server, self.settings if shows_key else None)

    def on_put(self, req, resp, server_id):
        """Update a server monitor: the given fields change, the others stay."""
        server = servers.update_server(req.context.caller, server_id, req.context.body.given(),
                                       now=clock.now())
        resp.media = schemas.server_out(server, self.settings)


class ServiceServers(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp, service_id):
        """The service's server monitors, paged."""
        found = servers.list_servers(req.context.caller, service_id)
        resp.media = page_of(found, req.context.query, schemas.server_out)


class ServerMetrics(Resource):
    GET_QUERY = schemas.MetricsQuery

    def on_get(self, req, resp, server_id):
        """A server's readings over a range: raw (`on-demand`, newest first) or in minute,
        hour or day buckets with each value's average and maximum."""
        server = servers.server_for(req.context.caller, server_id)
        query = req.context.query
        found = metrics.metrics(server, types=(query.type,) if query.type else metrics.TYPES,
                                interval=query.interval, start=query.start_date,
                                end=query.end_date, limit=query.limit, now=clock.now())
        resp.media = schemas.metrics_out(server, query, found)


_REPORTS = SIGNALS.labels("agent_report")


class AgentReport(Resource):
    """The gateway's end of `pinghome-agent`: authenticated by the server's push key, not by a
    user's token."""
    POST = schemas.Report
    PUBLIC = {"POST"}

    def on_post(self, req, resp, server_id):
        """Store a batch of an agent's readings (`Authorization: Bearer <push key>`)."""
        _, _, token = (req.get_header("Authorization") or "").partition(" ")
        server = reports.agent_server(server_id, token.strip())
        body = req.context.body
        stored = reports.record_report(server, body.readings(), interval_seconds=body.interval,
                                       now=clock.now())
        _REPORTS.inc()
        resp.media = {"message": "Readings stored.", "stored": stored}
