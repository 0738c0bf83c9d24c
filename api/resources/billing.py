"""Billing on the API (endpoints 115-125): `models.billing` answers for subscriptions,
payment methods and coupons, `models.vouchers` for vouchers. The subscription endpoints that
share `/v1/subscription/{token}` with status page subscribers are served by
`api.resources.subscriptions.SubscriptionItem`."""
from __future__ import annotations

from api.resources.base import Resource
from api.schemas import billing as schemas
from models import billing, clock, vouchers
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
        billing.read(req.context.caller, settings=self.settings)


class SubscriptionProration(Resource):
    def on_get(self, req, resp, token, product_id):
        """What moving the subscription to another product would cost now (prorated)."""
        billing.read(req.context.caller, settings=self.settings)


class PurchaseInfo(Resource):
    POST = schemas.PurchaseInfo

    def on_post(self, req, resp):
        """Start the organisation's subscription (a trial needing no card) and answer a
        Checkout link to add a payment method (owners)."""
        billing.change(req.context.caller, "Buying a plan", settings=self.settings)


class OrganisationPlan(Resource):
    PUT = schemas.Nothing

    def on_put(self, req, resp):
        """Set the organisation's plan from its live subscription (owners)."""
        billing.change(req.context.caller, "Changing the plan", settings=self.settings)


class PaymentMethods(Resource):
    def on_get(self, req, resp):
        """The organisation's payment methods: provider, type, brand, last four, default."""
        billing.read(req.context.caller, settings=self.settings)


class Coupon(Resource):
    def on_get(self, req, resp, code):
        """A coupon or promotion code (such as 25OFF): its discount and validity."""
        resp.media = billing.coupon(code, settings=self.settings)
