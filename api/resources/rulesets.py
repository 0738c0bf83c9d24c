"""Incident rulesets on the API: endpoints 83-88."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import incidents as schemas
from api.schemas.base import Page, page_of
from models import clock
from models.incidents import rulesets


class RulesetCollection(Resource):
    POST = schemas.RulesetCreate
    STATUS = {"POST": 201}

    def on_post(self, req, resp):
        """Create a ruleset: `state-change` (a monitor, heartbeat or server going down) or
        `webhook` (events posted to webhooks), for a team (managers and owners) or the whole
        organisation (an owner of one of its teams)."""
        ruleset = rulesets.create_ruleset(req.context.caller, req.context.body.given(),
                                          now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.ruleset_out(ruleset)


class RulesetList(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp):
        """The organisation's rulesets and your teams', in the order they apply."""
        resp.media = page_of(rulesets.list_rulesets(req.context.caller), req.context.query,
                             schemas.ruleset_out)


class RulesetItem(Resource):
    PUT = schemas.RulesetUpdate

    def on_get(self, req, resp, ruleset_id):
        """A ruleset."""
        resp.media = schemas.ruleset_out(rulesets.ruleset_for(req.context.caller, ruleset_id))

    def on_put(self, req, resp, ruleset_id):
        """Update a ruleset: the given fields change, the others stay."""
        ruleset = rulesets.update_ruleset(req.context.caller, ruleset_id,
                                          req.context.body.given(), now=clock.now())
        resp.media = schemas.ruleset_out(ruleset)

    def on_delete(self, req, resp, ruleset_id):
        """Delete a ruleset; the incidents it opened stay."""
        rulesets.delete_ruleset(req.context.caller, ruleset_id)
        resp.media = {"message": "Ruleset deleted."}


class RulesetActions(Resource):
    PUT = schemas.ActionsBody

    def on_get(self, req, resp, ruleset_id):
        """The ruleset's actions with their settings."""
        ruleset = rulesets.ruleset_for(req.context.caller, ruleset_id)
        resp.media = {"actions": ruleset.actions}

    def on_put(self, req, resp, ruleset_id):
        """Replace the ruleset's actions; an action or setting with no `id` is new."""
        actions = req.context.body.model_dump()["actions"]
        ruleset = rulesets.set_actions(req.context.caller, ruleset_id, actions, now=clock.now())
        resp.media = {"actions": ruleset.actions}
