"""Team on-call schedules on the API (endpoints 98-101) and their calendar feeds."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import schedules as schemas
from api.schemas.base import Page, page_of
from models import clock
from models.oncall import feeds, team_schedules


class CustomerSchedule(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp, customer_id):
        """A customer's schedule entries in your teams, each with its shifts over the next
        30 days (a shift under way starts now)."""
        found = team_schedules.customer_schedule(req.context.caller, customer_id,
                                                 now=clock.now())
        resp.media = page_of(found, req.context.query, schemas.scheduled_out)


class TeamSchedule(Resource):
    POST = schemas.EntryCreate
    PUT = schemas.EntryUpdate
    DELETE_QUERY = schemas.EntryKey
    STATUS = {"POST": 201}

    def on_post(self, req, resp, team_id):
        """Create a schedule entry (managers and owners): a member of the team on call by a
        recurrence; it is named by its team_member_id and created_at (to the second)."""
        entry = team_schedules.create_entry(req.context.caller, team_id,
                                            req.context.body.fields(), now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.entry_out(entry)

    def on_put(self, req, resp, team_id):
        """Replace the fields of the entry named by team_member_id and created_at (managers
        and owners); new_team_member_id hands it to another member."""
        body = req.context.body
        entry = team_schedules.update_entry(req.context.caller, team_id, body.team_member_id,
                                            body.created_at, body.fields(), now=clock.now())
        resp.media = schemas.entry_out(entry)

    def on_delete(self, req, resp, team_id):
        """Delete the entry named by the team_member_id and created_at query parameters
        (managers and owners)."""
        query = req.context.query
        team_schedules.delete_entry(req.context.caller, team_id, query.team_member_id,
                                    query.created_at, now=clock.now())
        resp.media = {"message": "Schedule entry deleted."}


class _FeedAddress(Resource):
    def _answer(self, resp, token: str) -> None:
        resp.media = schemas.feed_out(token, public_url=self.settings.public_url)


class TeamCalendar(_FeedAddress):
    def on_get(self, req, resp, team_id):
        """The secret address of the team schedule's calendar feed (iCalendar), which
        calendar apps subscribe to without signing in."""
        self._answer(resp, team_schedules.team_feed(
            req.context.caller, team_id, replace=False, settings=self.settings,
            now=clock.now()))

    def on_post(self, req, resp, team_id):
        """Replace the team feed's address (managers and owners); the old one stops working."""
        self._answer(resp, team_schedules.team_feed(
            req.context.caller, team_id, replace=True, settings=self.settings, now=clock.now()))


class CustomerCalendar(_FeedAddress):
    def on_get(self, req, resp, customer_id):
        """The secret address of your own calendar feed: your shifts in all your teams."""
        self._answer(resp, team_schedules.person_feed(
            req.context.caller, customer_id, replace=False, settings=self.settings,
            now=clock.now()))

    def on_post(self, req, resp, customer_id):
        """Replace your calendar feed's address; the old one stops working."""
        self._answer(resp, team_schedules.person_feed(
            req.context.caller, customer_id, replace=True, settings=self.settings,
            now=clock.now()))


class CalendarFile(Resource):
    PUBLIC = {"GET"}

    def on_get(self, req, resp, token):
        """A calendar feed (text/calendar): the shifts from 7 days ago to 90 days on. The
        secret address is the only credential."""
        resp.data = feeds.calendar(token, now=clock.now())
        resp.content_type = "text/calendar; charset=utf-8"
        resp.cache_control = ["private", "max-age=300"]
