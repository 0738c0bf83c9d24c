"""Billing on the API: vouchers (endpoint 125)."""
from __future__ import annotations

from api.resources.base import Resource
from api.schemas import billing as schemas
from models import clock, vouchers
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
