"""Notification channels: personal (endpoints 15-21) and team (33-39), one set of resources
built for each kind of owner."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import channels as schemas
from api.schemas.base import page_of
from models import channels, clock


class ChannelResource(Resource):
    def __init__(self, settings, kind: str):
        super().__init__(settings)
        self.kind = kind

    def owner(self, req, ids: dict, role: str = "manager"):
        """The owner named by the path: `customer_id` or `team_id` (Falcon wants one field
        name per path level, so the two kinds keep their own names)."""
        return channels.owner_for(req.context.caller, self.kind, ids[f"{self.kind}_id"], role)

    def shaped(self, channel, owner) -> dict:
        last = channels.last_deliveries([channel]).get(channel.id)
        return schemas.channel_out(channel, last, self.settings, owner.shows_secrets)


class ChannelCollection(ChannelResource):
    POST = schemas.ChannelCreate
    PUT = schemas.ChannelUpdate
    DELETE_QUERY = schemas.ChannelDeletion
    STATUS = {"POST": 201}

    def on_post(self, req, resp, **ids):
        """Create a notification channel; a verification code goes out over it."""
        body, owner = req.context.body, self.owner(req, ids)
        channel = channels.create_channel(owner, type=body.type, value=body.value,
                                          settings=self.settings, now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = self.shaped(channel, owner)

    def on_put(self, req, resp, **ids):
        """Change the value of the channel at `priority`; it must be verified again."""
        body, owner = req.context.body, self.owner(req, ids)
        channel = channels.update_channel(owner, priority=body.priority, value=body.value,
                                          settings=self.settings, now=clock.now())
        resp.media = self.shaped(channel, owner)

    def on_delete(self, req, resp, **ids):
        """Delete the channels at `priority=3,4` (or `priority=3&priority=4`)."""
        deleted = channels.delete_channels(self.owner(req, ids),
                                           priorities=req.context.query.priority)
        resp.media = {"message": f"{deleted} channel(s) deleted; the others were renumbered."}


class ChannelList(ChannelResource):
    GET_QUERY = schemas.ChannelFilter

    def on_get(self, req, resp, **ids):
        """The channels in priority order, filtered by `include_types` and `exclude_types`."""
        query, owner = req.context.query, self.owner(req, ids, "user")
        found = channels.list_channels(owner, include_types=query.include_types,
                                       exclude_types=query.exclude_types)
        last = channels.last_deliveries(found)
        resp.media = page_of(found, query, lambda c: schemas.channel_out(
            c, last.get(c.id), self.settings, owner.shows_secrets))


class ChannelVerification(ChannelResource):
    PATCH = schemas.ChannelVerification

    def on_patch(self, req, resp, **ids):
        """Verify the channel at `priority` with the code it received."""
        body, owner = req.context.body, self.owner(req, ids)
        channel = channels.verify_channel(owner, priority=body.priority, code=body.code,
                                          settings=self.settings, now=clock.now())
        resp.media = self.shaped(channel, owner)


class ChannelTest(ChannelResource):
    POST = schemas.ChannelPriority

    def on_post(self, req, resp, **ids):
        """Send a real test message through the channel at `priority`."""
        delivery = channels.test_channel(self.owner(req, ids),
                                         priority=req.context.body.priority,
                                         settings=self.settings, now=clock.now())
        resp.media = {"message": "A test message is on its way; the channel's last_delivery "
                                 "shows how it went.", "delivery_id": str(delivery.id)}


class ChannelEnabled(ChannelResource):
    PUT = schemas.ChannelEnabled

    def on_put(self, req, resp, **ids):
        """Enable or disable the channel at `priority`."""
        body, owner = req.context.body, self.owner(req, ids)
        channel = channels.set_enabled(owner, priority=body.priority, enabled=body.enabled,
                                       now=clock.now())
        resp.media = self.shaped(channel, owner)
