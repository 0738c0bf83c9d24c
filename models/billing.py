"""Billing (endpoints 115-124): subscriptions, proration, payment methods and coupons, which
Stripe keeps when `PINGHOME_BILLING=stripe`. With billing off (the default, and for now the
only form: the Stripe side is not built yet) every organisation is on the default plan and
these answer `BillingOff`, after the caller's role is checked: members read, owners change.
Vouchers (`models.vouchers`) work either way."""
from __future__ import annotations

from models import organisations
from models.errors import Conflict, NotFound


class BillingOff(Conflict):
    code = "billing_off"


def _off() -> BillingOff:
    return BillingOff("Billing is off on this installation (PINGHOME_BILLING is unset): every "
                      "organisation is on its plan with no payments; vouchers still apply.")


def read(caller, *, settings) -> None:
    """A member's read of the organisation's billing (115, 116, 123): anyone signed in to
    it."""
    if not settings.billing:
        raise _off()


def change(caller, what: str, *, settings) -> None:
    """An owner's change of the organisation's billing (118-122)."""
    organisations.ensure_owner_of_a_team(caller, what)
    if not settings.billing:
        raise _off()


def coupon(code: str, *, settings) -> dict:
    """A coupon or promotion code (124): Stripe's, so with billing off there is none."""
    raise NotFound("No such coupon.", code="unknown_coupon")
