"""Incidents on the API: endpoints 94-97, and an incident's timeline."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import incidents as schemas
from models import clock
from models.incidents import lifecycle


class TeamIncidents(Resource):
    GET_QUERY = schemas.IncidentQuery

    def on_get(self, req, resp, team_id):
        """The team's incidents, newest first, filtered by `status`, `urgency` and when they
        opened (`start_date`, `end_date`)."""
        query = req.context.query
        found = lifecycle.list_incidents(req.context.caller, team_id, status=query.status,
                                         urgency=query.urgency, start=query.start_date,
                                         end=query.end_date)
        start = (query.page - 1) * query.limit
        rows = list(found.offset(start).limit(query.limit))
        resp.media = {"data": [schemas.incident_out(i) for i in rows], "page": query.page,
                      "limit": query.limit, "total": found.count()}


class TeamIncidentCollection(Resource):
    POST = schemas.IncidentCreate
    STATUS = {"POST": 201}

    def on_post(self, req, resp, team_id):
        """Open an incident by hand (any member of the team); its assignees are told."""
        incident = lifecycle.create_incident(req.context.caller, team_id,
                                             req.context.body.model_dump(), now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.incident_out(incident)


class IncidentItem(Resource):
    PUT = schemas.IncidentUpdate

    def on_get(self, req, resp, incident_id):
        """An incident."""
        resp.media = schemas.incident_out(lifecycle.incident_for(req.context.caller,
                                                                 incident_id))

    def on_put(self, req, resp, incident_id):
        """Update an incident: the given fields change; `status` acknowledges or resolves it
        (any member of its team)."""
        incident = lifecycle.update_incident(req.context.caller, incident_id,
                                             req.context.body.model_dump(exclude_unset=True),
                                             now=clock.now())
        resp.media = schemas.incident_out(incident)


class IncidentActions(Resource):
    def on_get(self, req, resp, incident_id):
        """The incident's actions with their settings."""
        incident = lifecycle.incident_for(req.context.caller, incident_id)
        resp.media = {"actions": incident.actions}


class IncidentTimeline(Resource):
    def on_get(self, req, resp, incident_id):
        """Every step of the incident, oldest first: opened by what, matched again, notified
        whom over which channel, delivered or failed, acknowledged or resolved by whom."""
        steps = lifecycle.timeline(req.context.caller, incident_id)
        resp.media = {"data": [schemas.step_out(step) for step in steps], "total": len(steps)}
