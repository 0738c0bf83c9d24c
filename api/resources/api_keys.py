"""API keys (issue 14): owners make read-only or read-write keys, list and revoke them."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import api_keys as schemas
from api.schemas.base import Page, page_of
from models import api_keys, clock


class ApiKeyCollection(Resource):
    POST = schemas.ApiKeyBody
    STATUS = {"POST": 201}
    GET_QUERY = Page

    def on_post(self, req, resp):
        """Make an API key (owners). Its secret `key` is in this answer only."""
        body = req.context.body
        key, secret = api_keys.create_key(req.context.caller, name=body.name, kind=body.kind,
                                          settings=self.settings, now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = schemas.created_api_key_out(key, secret)

    def on_get(self, req, resp):
        """The organisation's API keys, revoked ones with `revoked_at` (owners)."""
        keys = api_keys.list_keys(req.context.caller)
        resp.media = page_of(keys, req.context.query, schemas.api_key_out)


class ApiKeyItem(Resource):
    def on_delete(self, req, resp, key_id):
        """Revoke an API key (owners): it stops working at once."""
        key = api_keys.revoke_key(req.context.caller, key_id, now=clock.now())
        resp.media = schemas.api_key_out(key)
