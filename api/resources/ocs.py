"""The OCS on-call API: endpoints 126-144 and `GET /api/contacts/`, under `/api/.../` with
trailing slashes. Everyone in the organisation reads; managers and owners of one of its teams
change things."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import ocs as schemas
from api.schemas.schedules import feed_out
from models import clock
from models.oncall import contacts, ocs, on_demand, timelines


class ContactList(Resource):
    GET_QUERY = schemas.OcsPage

    def on_get(self, req, resp):
        """Your organisation's members as contacts: the integer ids layers and on-demand
        shifts name, with name, email and phone (their first verified SMS channel)."""
        found = contacts.list_contacts(req.context.caller)
        resp.media = schemas.results_of(found, req.context.query, schemas.contact_out)


# -- schedules (126, 127, 140-144) --------------------------------------------------------------

class ScheduleCollection(Resource):
    GET_QUERY = schemas.OcsPage
    POST = schemas.ScheduleCreate
    STATUS = {"POST": 201}

    def on_get(self, req, resp):
        """Your organisation's on-call schedules, oldest first."""
        found = ocs.list_schedules(req.context.caller)
        resp.media = schemas.results_of(found, req.context.query, schemas.schedule_out)

    def on_post(self, req, resp):
        """Create an on-call schedule (managers and owners) with its tier 1; `customer` (whom
        it is for) defaults to you."""
        schedule = ocs.create_schedule(req.context.caller, req.context.body.given(),
                                       now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.schedule_out(schedule)


class ScheduleCount(Resource):
    def on_get(self, req, resp):
        """How many on-call schedules your organisation has."""
        resp.media = {"count": ocs.count_schedules(req.context.caller)}


class ScheduleItem(Resource):
    PUT = schemas.ScheduleUpdate

    def on_get(self, req, resp, schedule_id):
        """A schedule with who made and changed it, its tiers, each tier's shifts over the
        next 60 days (compute_tier's answer, shifts with their contact) and its contacts."""
        view = timelines.schedule_view(req.context.caller, schedule_id, now=clock.now())
        resp.media = schemas.schedule_detail_out(view)

    def on_put(self, req, resp, schedule_id):
        """Update a schedule: the given fields change, the others stay."""
        schedule = ocs.update_schedule(req.context.caller, schedule_id, req.context.body.given(),
                                       now=clock.now())
        resp.media = schemas.schedule_out(schedule)

    def on_delete(self, req, resp, schedule_id):
        """Delete a schedule with its tiers and on-demand shifts; answers 1."""
        ocs.delete_schedule(req.context.caller, schedule_id)
        resp.media = 1


class ScheduleCalendar(Resource):
    def on_get(self, req, resp, schedule_id):
        """The secret address of the schedule's calendar feed (iCalendar: every tier's
        shifts), which calendar apps subscribe to without signing in."""
        self._answer(req, resp, schedule_id, replace=False)

    def on_post(self, req, resp, schedule_id):
        """Replace the feed's address (managers and owners); the old one stops working."""
        self._answer(req, resp, schedule_id, replace=True)

    def _answer(self, req, resp, schedule_id, *, replace: bool) -> None:
        token = ocs.schedule_feed(req.context.caller, schedule_id, replace=replace,
                                  settings=self.settings, now=clock.now())
        resp.media = feed_out(token, public_url=self.settings.public_url)


class ScheduleStats(Resource):
    GET_QUERY = schemas.StatsQuery

    def on_get(self, req, resp, schedule_id):
        """Per contact over the last `timeframe` days: shifts, hours on call, night hours
        (22:00-07:00) and weekend hours, ordered by `ordering`; per tier, uncovered hours."""
        query = req.context.query
        stats = timelines.schedule_stats(req.context.caller, schedule_id,
                                         timeframe_days=query.timeframe,
                                         ordering=query.ordering, now=clock.now())
        resp.media = schemas.stats_out(stats, query)


# -- tiers (134-139) ----------------------------------------------------------------------------

class TierList(Resource):
    GET_QUERY = schemas.TierQuery

    def on_get(self, req, resp):
        """Your organisation's tiers (`ocs`: one schedule's), by schedule and number."""
        query = req.context.query
        found = ocs.list_tiers(req.context.caller, schedule_id=query.ocs)
        resp.media = schemas.results_of(found, query, schemas.tier_list_out)


class TierCount(Resource):
    GET_QUERY = schemas.TierCountQuery

    def on_get(self, req, resp):
        """How many tiers your organisation's schedules have (`ocs`: one schedule)."""
        resp.media = {"count": ocs.count_tiers(req.context.caller,
                                               schedule_id=req.context.query.ocs)}


class TierItem(Resource):
    PUT = schemas.TierUpdate
    PATCH = schemas.TierPatch

    def on_get(self, req, resp, tier_id):
        """A tier (its id or `{ocs_id}_{number}`): layers as they came, its contacts, who is
        on call now and until when, and who comes next."""
        found = timelines.tier_now(req.context.caller, tier_id, now=clock.now())
        resp.media = schemas.tier_now_out(found)

    def on_put(self, req, resp, tier_id):
        """Update a tier: `layers` replaces its layers, `number` renumbers it, `ocs` moves it."""
        tier = ocs.update_tier(req.context.caller, tier_id, req.context.body.given(),
                               now=clock.now())
        resp.media = schemas.tier_out(tier)

    def on_patch(self, req, resp, tier_id):
        """Change a tier's layers and on-demand shifts; `{ocs_id}_{n}` creates tier n when it
        is missing. An empty `on_demand` leaves the shifts as they are."""
        body = req.context.body
        tier, _ = ocs.patch_tier(req.context.caller, tier_id, layers=body.layers,
                                 on_demand=body.on_demand_fields(), now=clock.now())
        resp.media = schemas.tier_out(tier)


class TierCompute(Resource):
    POST = schemas.TierPatch
    POST_QUERY = schemas.WindowQuery

    def on_post(self, req, resp, tier_id):
        """Compute a tier's shifts from the posted layers and on-demand shifts (stores
        nothing): `[final, layers, on_demand]` from now to 60 days on (`since`, `until`)."""
        query, body = req.context.query, req.context.body
        computed = timelines.preview(req.context.caller, tier_id, layers=body.layers or [],
                                     on_demand=body.on_demand_fields(), since=query.since,
                                     until=query.until, now=clock.now())
        resp.media = schemas.computed_out(computed)


# -- on-demand shifts (128-133) -----------------------------------------------------------------

class OnDemandCollection(Resource):
    GET_QUERY = schemas.OnDemandQuery
    POST = schemas.OnDemandCreate
    STATUS = {"POST": 201}

    def on_get(self, req, resp):
        """A tier's on-demand shifts (`tier_id`: its id or `{ocs_id}_{number}`), by start."""
        query = req.context.query
        found = on_demand.list_shifts(req.context.caller, query.tier_id)
        resp.media = schemas.results_of(found, query, schemas.shift_out)

    def on_post(self, req, resp):
        """Create an on-demand shift; `sure: true` runs over the tier's shifts for these times
        (other on-demand shifts are trimmed or split), otherwise an overlap is a 409."""
        body = req.context.body
        shift = on_demand.create_shift(req.context.caller, tier_id=body.tier,
                                       contact=body.contact, start_at=body.start,
                                       end_at=body.end, sure=body.sure, now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = {**schemas.shift_out(shift), "sure": body.sure}


class OnDemandCount(Resource):
    GET_QUERY = schemas.OnDemandCountQuery

    def on_get(self, req, resp):
        """How many on-demand shifts your organisation's tiers have (`tier_id`: one tier)."""
        resp.media = {"count": on_demand.count_shifts(req.context.caller,
                                                      req.context.query.tier_id)}


class OnDemandItem(Resource):
    PUT = schemas.OnDemandUpdate

    def on_get(self, req, resp, shift_id):
        """An on-demand shift."""
        resp.media = schemas.shift_out(on_demand.shift_for(req.context.caller, shift_id))

    def on_put(self, req, resp, shift_id):
        """Update an on-demand shift: the given fields change; `sure` as on creation."""
        body = req.context.body
        shift = on_demand.update_shift(req.context.caller, shift_id, body.fields(),
                                       sure=body.sure, now=clock.now())
        resp.media = {**schemas.shift_out(shift), "sure": body.sure}

    def on_delete(self, req, resp, shift_id):
        """Delete an on-demand shift; answers 1."""
        on_demand.delete_shift(req.context.caller, shift_id, now=clock.now())
        resp.media = 1
