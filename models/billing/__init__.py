"""Billing (endpoints 115-124): subscriptions, proration, payment methods and coupons, which
Stripe keeps when `PINGHOME_BILLING=stripe` (`models.billing.subscriptions`, the webhook in
`models.billing.webhooks`). With billing off (the default) every organisation is on the
default plan and these answer `BillingOff`, after the caller's role is checked: members read,
owners change. Vouchers (`models.vouchers`) work either way."""
from __future__ import annotations

from models import organisations
from models.errors import Conflict
from models.organisations import Organisation


class BillingOff(Conflict):
    code = "billing_off"


def _off() -> BillingOff:
    return BillingOff("Billing is off on this installation (PINGHOME_BILLING is unset): every "
                      "organisation is on its plan with no payments; vouchers still apply.")


def read(caller, *, settings) -> Organisation:
    """A member's read of the organisation's billing (115, 116, 123): anyone signed in to
    it."""
    if not settings.billing:
        raise _off()
    return Organisation.get_by_id(caller.organisation_id)


def change(caller, what: str, *, settings) -> Organisation:
    """An owner's change of the organisation's billing (118-122)."""
    organisations.ensure_owner_of_a_team(caller, what)
    if not settings.billing:
        raise _off()
    return Organisation.get_by_id(caller.organisation_id)
