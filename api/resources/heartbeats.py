"""Heartbeat monitors on the API: endpoints 74-81."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import heartbeats as schemas
from api.schemas.base import Page, page_of
from models import clock
from models.heartbeats import operations as heartbeats
from models.heartbeats import reports


class _HeartbeatResource(Resource):
    def out(self, heartbeat) -> dict:
        return schemas.heartbeat_out(heartbeat, gateway_url=self.settings.gateway_url)


class HeartbeatCollection(_HeartbeatResource):
    POST = schemas.HeartbeatCreate
    DELETE_QUERY = schemas.HeartbeatIds
    STATUS = {"POST": 201}

    def on_post(self, req, resp):
        """Create a heartbeat monitor: it expects a signal every `interval` seconds (or at each
        slot of `schedule` in `timezone`) plus `grace`; `ping_url` is where to send them."""
        heartbeat = heartbeats.create_heartbeat(req.context.caller, req.context.body.given(),
                                                now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = self.out(heartbeat)

    def on_delete(self, req, resp):
        """Delete several heartbeats: `?id=...&id=...`; all of them or none."""
        ids = [str(i) for i in req.context.query.id]
        count = heartbeats.delete_heartbeats(req.context.caller, ids)
        resp.media = {"message": f"{count} heartbeat(s) deleted.", "ids": list(dict.fromkeys(ids))}


class HeartbeatItem(_HeartbeatResource):
    PUT = schemas.HeartbeatUpdate

    def on_get(self, req, resp, heartbeat_id):
        """A heartbeat with its status, last signal and when the next one is due."""
        resp.media = self.out(heartbeats.heartbeat_for(req.context.caller, heartbeat_id))

    def on_put(self, req, resp, heartbeat_id):
        """Update a heartbeat: the given fields change, the others stay."""
        heartbeat = heartbeats.update_heartbeat(req.context.caller, heartbeat_id,
                                                req.context.body.given(), now=clock.now())
        resp.media = self.out(heartbeat)

    def on_delete(self, req, resp, heartbeat_id):
        """Delete a heartbeat with its events."""
        heartbeats.delete_heartbeats(req.context.caller, [heartbeat_id])
        resp.media = {"message": "Heartbeat deleted."}


class ServiceHeartbeats(_HeartbeatResource):
    GET_QUERY = Page

    def on_get(self, req, resp, service_id):
        """The service's heartbeats, paged."""
        found = heartbeats.list_heartbeats(req.context.caller, service_id)
        resp.media = page_of(found, req.context.query, self.out)


class HeartbeatStatistic(Resource):
    GET_QUERY = schemas.StatisticQuery

    def on_get(self, req, resp, heartbeat_id):
        """Up and down time, uptime %, events by result and run durations over the last
        `interval` (1h to 30d) before `end_date` (default now), or from `start_date`."""
        heartbeat = heartbeats.heartbeat_for(req.context.caller, heartbeat_id)
        query = req.context.query
        resp.media = reports.statistics(heartbeat, interval=query.interval,
                                        start=query.start_date, end=query.end_date,
                                        now=clock.now())


class HeartbeatEvents(Resource):
    GET_QUERY = schemas.EventsQuery

    def on_get(self, req, resp, heartbeat_id):
        """Events, newest first; the next page starts before the `received_at` of the last
        one (`last_received_at`)."""
        heartbeat = heartbeats.heartbeat_for(req.context.caller, heartbeat_id)
        query = req.context.query
        resp.media = {"data": reports.events(heartbeat, limit=query.limit,
                                             before=query.last_received_at),
                      "limit": query.limit}
