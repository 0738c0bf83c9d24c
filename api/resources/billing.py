"""Billing on the API (endpoints 115-125): `models.billing` answers for subscriptions,
payment methods and coupons, `models.vouchers` for vouchers. The subscription endpoints that
share `/v1/subscription/{token}` with status page subscribers are served by
`api.resources.subscriptions.SubscriptionItem`."""
from __future__ import annotations

import falcon

from api.middleware import kept_body
from api.resources.base import Resource
from api.schemas import billing as schemas
from models import clock, vouchers
from models.billing import subscriptions, webhooks
from models.clock import isoformat


class AppliedVoucher(Resource):
    POST = schemas.VoucherApply

    def on_post(self, req, resp):
        """Apply a voucher (owners): the organisation is on its plan for its months, then
        back on the plan it had."""
        organisation = vouchers.apply_voucher(req.context.caller, req.context.body.code,
                                              now=clock.now())
        resp.media = {"message": "Voucher applied.", "plan": organisation.plan,
                      "plan_version": organisation.plan_version,
                      "plan_until": isoformat(organisation.plan_until)}


class SubscriptionPayments(Resource):
    def on_get(self, req, resp, token):
        """The subscription with its status, plan and invoices (payments)."""
        resp.media = subscriptions.payments(req.context.caller, token, settings=self.settings)


class SubscriptionProration(Resource):
    def on_get(self, req, resp, token, product_id):
        """What moving the subscription to another product would cost now (prorated)."""
        resp.media = subscriptions.proration(req.context.caller, token, product_id,
                                             settings=self.settings, now=clock.now())


class PurchaseInfo(Resource):
    POST = schemas.PurchaseInfo

    def on_post(self, req, resp):
        """Start the organisation's subscription (a trial needing no card, the first time)
        and answer a Checkout link to add a payment method (owners)."""
        body = req.context.body
        resp.status = falcon.HTTP_201
        resp.media = subscriptions.purchase(req.context.caller, body.plan, body.version,
                                            settings=self.settings, now=clock.now())


class OrganisationPlan(Resource):
    PUT = schemas.Nothing

    def on_put(self, req, resp):
        """Set the organisation's plan from its live subscription (owners)."""
        organisation = subscriptions.sync(req.context.caller, settings=self.settings,
                                          now=clock.now())
        resp.media = {"plan": organisation.plan, "plan_version": organisation.plan_version,
                      "grace_until": isoformat(organisation.grace_until)}


class PaymentMethods(Resource):
    def on_get(self, req, resp):
        """The organisation's payment methods: provider, type, brand, last four, default."""
        resp.media = {"payment_methods": subscriptions.payment_methods(
            req.context.caller, settings=self.settings)}


class Coupon(Resource):
    def on_get(self, req, resp, code):
        """A coupon or promotion code (such as 25OFF): its discount and validity."""
        resp.media = subscriptions.coupon(code, settings=self.settings)


class StripeWebhook(Resource):
    """On the gateway: Stripe's signed events, which move organisations' plans."""
    PUBLIC = {"POST"}
    CUTS_BODY = True

    def on_post(self, req, resp):
        """Apply a Stripe event (signed with the endpoint's secret): 200 once it is applied
        or known; 400 for a bad signature, which Stripe then retries."""
        payload = kept_body(req, self.settings.max_body_bytes)
        resp.media = {"result": webhooks.receive(
            payload, req.get_header("Stripe-Signature"), settings=self.settings,
            now=clock.now())}
