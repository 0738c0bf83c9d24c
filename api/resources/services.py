"""Services: endpoints 40-43, and a team's services."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import services as schemas
from api.schemas.base import Page, page_of
from models import clock, plans, services, usage
from models.organisations import Organisation


class ServiceCollection(Resource):
    POST = schemas.ServiceCreate
    STATUS = {"POST": 201}

    def on_post(self, req, resp):
        """Create a service under a team (managers and owners)."""
        body = req.context.body
        service = services.create_service(req.context.caller, name=body.name,
                                          team_id=body.team_id, now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.service_out(service, services.counts([service])[service.id])


class ServiceItem(Resource):
    PUT = schemas.ServiceRename

    def on_put(self, req, resp, service_id):
        """Rename a service."""
        service = services.rename_service(req.context.caller, service_id,
                                          name=req.context.body.name)
        resp.media = schemas.service_out(service)

    def on_delete(self, req, resp, service_id):
        """Delete a service with its monitors, heartbeats and server monitors (stopped first)."""
        services.delete_service(req.context.caller, service_id, now=clock.now())
        resp.media = {"message": "Service deleted."}


class ServiceDetails(Resource):
    def on_get(self, req, resp, service_id):
        """A service with its team and the counts of what it monitors."""
        service = services.service_for(req.context.caller, service_id)
        resp.media = schemas.service_out(service, services.counts([service])[service.id])


class TeamServices(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp, team_id):
        """The team's services, oldest first."""
        found = services.list_services(req.context.caller, team_id)
        counts = services.counts(found)
        resp.media = page_of(found, req.context.query,
                             lambda s: schemas.service_out(s, counts[s.id]))


class PlanLimits(Resource):
    def on_get(self, req, resp, plan, version):
        """Get plan limits by version, grouped by module; for the caller's own plan also what
        the organisation is `over` (after a downgrade: it keeps running, nothing more can be
        added)."""
        modules: dict = {}
        for limit in plans.limits(plan, version):
            modules.setdefault(limit.module, []).append(
                {"key": limit.key, "title": limit.title, "value": limit.value,
                 "unit": limit.unit, "unlimited": limit.value is None})
        organisation = Organisation.get_by_id(req.context.caller.organisation_id)
        own = (organisation.plan, organisation.plan_version) == (plan, version)
        resp.media = {"plan": plan, "version": version, "modules": [
            {"module": module, "limits": found} for module, found in modules.items()],
            "over": usage.over_limits(organisation, now=clock.now()) if own else None}
