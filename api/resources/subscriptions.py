"""Status page subscriptions on the API (endpoints 112-114), open to anyone: the token
that confirms and ends a subscription is its credential.

`/v1/subscription/{token}` serves two rows of the spec (DESIGN.md): a subscriber's token here
(114); the billing subscriptions (115-120) will share the resource, told apart by the bearer
token of a signed-in caller. Falcon allows one field name per path level."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import billing as billing_schemas
from api.schemas import subscriptions as schemas
from models import clock
from models.billing import subscriptions as billing
from models.statuspages import public, subscribers

ANSWER = ("If that address can be subscribed to the page, a message asking to confirm the "
          "subscription is on its way to it.")


class SubscriptionCollection(Resource):
    PUBLIC = {"POST"}
    POST = schemas.SubscriptionCreate
    STATUS = {"POST": 202}

    def on_post(self, req, resp):
        """Subscribe an email address or webhook URL to a status page's notices: a message
        asks it to confirm first. The answer is the same for a new, a pending and a
        confirmed address."""
        body = req.context.body
        page = public.subscribable_page(
            body.statuspage_id, host=req.host, client_ip=req.remote_addr,
            cookie_of=lambda page: req.cookies.get(public.cookie_name(page)),
            settings=self.settings)
        subscribers.subscribe(page, body.channel_type, body.channel_value,
                              client_ip=req.remote_addr, settings=self.settings,
                              now=clock.now())
        resp.status = falcon.HTTP_202
        resp.media = {"message": ANSWER}


class SubscriptionVerification(Resource):
    PUBLIC = {"PUT"}

    def on_put(self, req, resp, token):
        """Confirm a subscription with the token its confirmation message carried."""
        subscribers.confirm(token, settings=self.settings, now=clock.now())
        resp.media = {"message": "Subscription confirmed."}


class SubscriptionItem(Resource):
    """114 and 118-120 on one path: with a bearer token, the organisation's billing
    subscription `{token}` (its id); without, a status page subscriber's token."""
    OPTIONAL_AUTH = {"DELETE"}
    PUT = billing_schemas.Nothing
    PATCH = billing_schemas.PriceChange

    def on_delete(self, req, resp, token):
        """End a subscription: a status page subscriber's (the token of its messages'
        unsubscribe link, no sign-in), or with a bearer token the organisation's billing
        subscription, cancelled at the end of its period (owners)."""
        if req.context.caller is not None:
            resp.media = {"message": "The subscription ends with its period.",
                          "subscription": billing.cancel(req.context.caller, token,
                                                         settings=self.settings,
                                                         now=clock.now())}
            return
        subscribers.unsubscribe(token, settings=self.settings)
        resp.media = {"message": "Subscription deleted."}

    def on_put(self, req, resp, token):
        """Reactivate a billing subscription cancelled at the end of its period, before it
        ends (owners)."""
        resp.media = {"message": "Subscription reactivated.",
                      "subscription": billing.reactivate(req.context.caller, token,
                                                         settings=self.settings,
                                                         now=clock.now())}

    def on_patch(self, req, resp, token):
        """Move a billing subscription to another price, prorated (owners)."""
        resp.media = {"message": "Subscription changed.",
                      "subscription": billing.change_price(
                          req.context.caller, token, req.context.body.price_id,
                          settings=self.settings, now=clock.now())}

