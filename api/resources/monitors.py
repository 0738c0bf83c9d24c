"""Uptime monitors: endpoints 44-63."""
from __future__ import annotations

import datetime as dt

import falcon
import orjson

from api.resources.base import Resource
from api.schemas import monitors as schemas
from api.schemas.base import Page, page_of
from models import clock, statistics
from models.monitors import operations as monitors


class MonitorCollection(Resource):
    POST = schemas.MonitorCreate
    DELETE_QUERY = schemas.MonitorIds
    STATUS = {"POST": 201}

    def on_post(self, req, resp):
        """Create an uptime monitor (http, keyword, ping, port, ssl or tld)."""
        monitor = monitors.create_monitor(req.context.caller, req.context.body.given(),
                                          settings=self.settings, now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.monitor_out(monitor)

    def on_delete(self, req, resp):
        """Delete several monitors: `?id=...&id=...`; all of them or none."""
        count = monitors.delete_monitors(req.context.caller, req.context.query.id, now=clock.now())
        resp.media = {"message": f"{count} monitor(s) deleted."}


class MonitorItem(Resource):
    PUT = schemas.MonitorUpdate

    def on_get(self, req, resp, monitor_id):
        """An uptime monitor with its current status."""
        resp.media = schemas.monitor_out(monitors.monitor_for(req.context.caller, monitor_id))

    def on_put(self, req, resp, monitor_id):
        """Update a monitor: the given fields change, the others stay. Takes effect at the
        monitor's next check."""
        monitor = monitors.update_monitor(req.context.caller, monitor_id,
                                          req.context.body.given(), settings=self.settings,
                                          now=clock.now())
        resp.media = schemas.monitor_out(monitor)

    def on_delete(self, req, resp, monitor_id):
        """Delete a monitor with its results."""
        monitors.delete_monitors(req.context.caller, [monitor_id], now=clock.now())
        resp.media = {"message": "Monitor deleted."}


class MonitorStatus(Resource):
    PUT = schemas.MonitorStatus

    def on_put(self, req, resp, monitor_id):
        """Enable or disable a monitor."""
        monitor = monitors.set_enabled(req.context.caller, monitor_id,
                                       enabled=req.context.body.enabled, now=clock.now())
        resp.media = schemas.monitor_out(monitor)


class ServiceMonitors(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp, service_id):
        """The service's uptime monitors, paged."""
        found = monitors.list_monitors(req.context.caller, service_id)
        resp.media = page_of(found, req.context.query, schemas.monitor_out)


class MonitorRegions(Resource):
    def on_get(self, req, resp, monitor_id):
        """The monitor's regions, each with its own view of the monitor."""
        monitor = monitors.monitor_for(req.context.caller, monitor_id)
        resp.media = {"monitor_id": str(monitor.id),
                      "data": [schemas.region_out(r) for r in monitors.region_states(monitor)]}


class MonitorFacts(Resource):
    def __init__(self, settings, kind: str):
        super().__init__(settings)
        self.kind = kind

    def on_get(self, req, resp, monitor_id):
        """The latest certificate (ssl) or domain registration (tld) facts of the monitor."""
        monitor = monitors.monitor_for(req.context.caller, monitor_id)
        resp.media = schemas.facts_out(monitor, self.kind, monitors.facts(monitor, self.kind))


class MonitorReminder(Resource):
    POST = schemas.Reminder
    PUT = schemas.Reminder
    STATUS = {"POST": 201}

    def __init__(self, settings, kind: str):
        super().__init__(settings)
        self.kind = kind

    def on_get(self, req, resp, monitor_id):
        """The monitor's expiry reminder thresholds."""
        reminder = monitors.get_reminder(req.context.caller, monitor_id, self.kind)
        resp.media = schemas.reminder_out(reminder)

    def on_post(self, req, resp, monitor_id):
        """Set the expiry reminder: a notice to the team when fewer than `days_before` days are
        left."""
        self._set(req, resp, monitor_id, create=True)
        resp.status = falcon.HTTP_201

    def on_put(self, req, resp, monitor_id):
        """Change the expiry reminder's thresholds."""
        self._set(req, resp, monitor_id, create=False)

    def on_delete(self, req, resp, monitor_id):
        """Delete the expiry reminder."""
        monitors.delete_reminder(req.context.caller, monitor_id, self.kind)
        resp.media = {"message": "Reminder deleted."}

    def _set(self, req, resp, monitor_id, *, create: bool):
        reminder = monitors.set_reminder(req.context.caller, monitor_id, self.kind,
                                         req.context.body.days_before, create=create,
                                         now=clock.now())
        resp.media = schemas.reminder_out(reminder)


class MonitorStatistic(Resource):
    GET_QUERY = schemas.ReportQuery

    def on_get(self, req, resp, monitor_id):
        """Uptime and response times over a range, in buckets of `interval`, per region and
        overall (default: the last 24 hours in hours)."""
        monitor = monitors.monitor_for(req.context.caller, monitor_id)
        query, now = req.context.query, clock.now()
        end = query.end_date or now
        start = query.start_date or end - dt.timedelta(days=1)
        report = statistics.performance_report(monitor, start=start, end=end,
                                               interval=query.interval, limit=query.limit,
                                               now=now)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = orjson.dumps(report)     # its rolled-up hours are JSON text already


class MonitorStateLog(Resource):
    GET_QUERY = schemas.HistoryQuery

    def on_get(self, req, resp, monitor_id):
        """The monitor's state changes, newest first."""
        monitor = monitors.monitor_for(req.context.caller, monitor_id)
        query = req.context.query
        resp.media = {"data": statistics.state_history(monitor, start=query.start_date,
                                                       end=query.end_date, limit=query.limit)}
