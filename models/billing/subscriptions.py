"""An organisation's Stripe subscription (endpoints 115, 116, 118-124), with billing on.

Stripe is the record: each call reads or changes the subscription there and then puts the
organisation on the plan the answer says (`apply`), as the webhooks do for what Stripe does on
its own (renewals, failed payments, the end of a period). An organisation has one Stripe
customer and one current subscription; another organisation's subscription id is unknown
here (404). Amounts are integers in the currency's smallest unit, beside their currency.

- `active` and `trialing` put the organisation on the plan of the subscription's price;
- `past_due` keeps the plan it has: a failed payment gives it `GRACE` to pay (`webhooks`),
  and `end_grace` puts it on `free` when that runs out unpaid;
- `canceled`, `unpaid` and `incomplete_expired` put it on `free`; `incomplete` (a first
  payment not made yet) changes nothing.

While a voucher's plan runs (`plan_until`), a plan change is what it goes back to afterwards.
"""
from __future__ import annotations

import datetime as dt

import stripe

from models import billing, plans
from models.billing.stripe_account import StripePrice, answering, client, field
from models.clock import isoformat
from models.errors import Conflict, Invalid, NotFound
from models.organisations import Organisation

GRACE = dt.timedelta(days=7)
PAYING = {"active", "trialing"}
ENDED = {"canceled", "unpaid", "incomplete_expired"}


# -- the plan a subscription puts its organisation on --------------------------------------

def apply(organisation_id, subscription, *, now) -> None:
    """Puts the organisation on the plan `subscription` (Stripe's answer) says, and keeps
    its id as the organisation's current subscription."""
    changes: dict = {"stripe_subscription_id": subscription.id}
    plan = None
    if subscription.status in ENDED:
        plan = plans.FREE_PLAN
    elif subscription.status in PAYING:
        price = StripePrice.get_or_none(StripePrice.price_id == price_id(subscription))
        plan = (price.plan, price.plan_version) if price else None
        changes["grace_until"] = None
    put_on(organisation_id, plan, now=now, **changes)


def put_on(organisation_id, plan: tuple[str, str] | None, *, now, unless_changed=None,
           **changes) -> int:
    """Puts the organisation on `plan` (and makes `changes`); with `unless_changed`, a
    condition the row must still meet. Answers how many rows changed (0 or 1)."""
    organisation = Organisation.get_by_id(organisation_id)
    if plan is not None:
        if organisation.plan_until is not None and organisation.plan_until > now:
            changes.update(plan_after=plan[0], plan_after_version=plan[1])
        else:
            changes.update(plan=plan[0], plan_version=plan[1])
    if not changes:
        return 0
    condition = Organisation.id == organisation_id
    if unless_changed is not None:
        condition &= unless_changed
    return Organisation.update(**changes).where(condition).execute()


def end_grace(*, now) -> int:
    """Puts the organisations whose grace after a failed payment ran out on `free`; answers
    how many. (A payment made in time clears the grace: see `webhooks`; one that clears it
    while this runs wins, by the conditional update.)"""
    ended = 0
    for organisation in Organisation.select().where(Organisation.grace_until <= now):
        ended += put_on(organisation.id, plans.FREE_PLAN, now=now, grace_until=None,
                        unless_changed=Organisation.grace_until == organisation.grace_until)
    return ended


def price_id(subscription) -> str | None:
    """The price of the subscription's (one) item; Stripe answers it as the item's `plan`
    at our pinned API version (a price id is accepted wherever a plan id is)."""
    items = subscription["items"]["data"]
    return items[0]["plan"]["id"] if items else None


# -- 121, 122: buying and syncing ----------------------------------------------------------

def purchase(caller, plan: str, version: str, *, settings, now) -> dict:
    """Starts the organisation's subscription to `plan`/`version` (owners): a trial of
    `trial_days` needing no card, the first time; and a Checkout link where a person adds a
    payment method. Asked again for the same price, answers the same subscription."""
    organisation = billing.change(caller, "Buying a plan", settings=settings)
    price = _price_of(plan, version)
    account = client(settings)
    with answering():
        customer_id = _customer(account, organisation, caller)
        subscription = _current(account, organisation)
        trial = 0
        if subscription is None:
            trial = 0 if organisation.trial_used else settings.trial_days
            params = {"customer": customer_id, "items": [{"plan": price.price_id}],
                      "metadata": {"organisation": str(organisation.id)}}
            if trial:
                params["trial_period_days"] = trial
            key = f"subscribe-{organisation.id}-{organisation.stripe_subscription_id or 'first'}"
            subscription = account.v1.subscriptions.create(
                params=params, options={"idempotency_key": key})
        elif price_id(subscription) != price.price_id:
            raise Conflict(f"The organisation is subscribed to another plan already; change "
                           f"its price with PATCH /v1/subscription/{subscription.id}.",
                           code="already_subscribed")
        session = account.v1.checkout.sessions.create(params={
            "mode": "setup", "customer": customer_id, "currency": price.currency,
            "success_url": f"{settings.public_url}/?billing=payment-method-added",
            "cancel_url": f"{settings.public_url}/?billing=cancelled",
            "metadata": {"organisation": str(organisation.id),
                         "subscription": subscription.id}})
    if trial:
        Organisation.update(trial_used=True).where(Organisation.id == organisation.id).execute()
    apply(organisation.id, subscription, now=now)
    return {"subscription_id": subscription.id, **shape(subscription),
            "checkout_url": session.url}


def sync(caller, *, settings, now) -> Organisation:
    """Sets the organisation's plan from its current subscription as Stripe has it now."""
    organisation = billing.change(caller, "Changing the plan", settings=settings)
    if organisation.stripe_subscription_id is None:
        raise NotFound("The organisation has no subscription; buy one with POST "
                       "/v1/organisation/purchase-info.", code="no_subscription")
    with answering():
        subscription = client(settings).v1.subscriptions.retrieve(
            organisation.stripe_subscription_id)
    apply(organisation.id, subscription, now=now)
    return Organisation.get_by_id(organisation.id)


def _customer(account, organisation, caller) -> str:
    """The organisation's Stripe customer, made the first time (once, with two at once)."""
    if organisation.stripe_customer_id:
        return organisation.stripe_customer_id
    customer = account.v1.customers.create(
        params={"name": organisation.name, "email": caller.customer.email,
                "metadata": {"organisation": str(organisation.id)}},
        options={"idempotency_key": f"customer-{organisation.id}"})
    (Organisation.update(stripe_customer_id=customer.id)
     .where(Organisation.id == organisation.id, Organisation.stripe_customer_id.is_null())
     .execute())
    return Organisation.get_by_id(organisation.id).stripe_customer_id


def _current(account, organisation):
    """The organisation's subscription unless it has none or it ended."""
    if organisation.stripe_subscription_id is None:
        return None
    subscription = account.v1.subscriptions.retrieve(organisation.stripe_subscription_id)
    return None if subscription.status in ENDED else subscription


def _price_of(plan: str, version: str) -> StripePrice:
    if (plan, version) not in plans.CATALOGUE:
        raise Invalid(f"No plan {plan!r} in version {version!r}.", code="unknown_plan",
                      fields={"plan": "unknown plan or version"})
    price = StripePrice.get_or_none(StripePrice.plan == plan, StripePrice.plan_version == version)
    if price is None:
        raise Invalid(f"The plan {plan}/{version} has no price: it is not for sale (or the "
                      "operator has not run `pinghome billing setup`).", code="unknown_plan",
                      fields={"plan": "not for sale"})
    return price


# -- 115, 116, 118-120: one subscription ---------------------------------------------------

def payments(caller, subscription_id: str, *, settings) -> dict:
    """The subscription with its status, plan and invoices, newest first."""
    organisation = billing.read(caller, settings=settings)
    _ensure_own(organisation, subscription_id)
    account = client(settings)
    with answering():
        subscription = account.v1.subscriptions.retrieve(subscription_id)
        invoices = account.v1.invoices.list(params={"subscription": subscription_id,
                                                    "limit": 100}).data
    return {**shape(subscription), "payments": [_invoice(i) for i in invoices]}


def proration(caller, subscription_id: str, product_id: str, *, settings, now) -> dict:
    """What moving the subscription to `product_id` (a plan's Stripe product) would cost
    now: Stripe's preview of the next invoice, its prorated lines apart."""
    organisation = billing.read(caller, settings=settings)
    _ensure_own(organisation, subscription_id)
    target = _price_of_product(product_id, organisation.plan_version)
    account = client(settings)
    with answering():
        subscription = account.v1.subscriptions.retrieve(subscription_id)
        item = subscription["items"]["data"][0]
        preview = account.v1.invoices.create_preview(params={
            "customer": organisation.stripe_customer_id, "subscription": subscription_id,
            "subscription_details": {"items": [{"id": item.id, "plan": target.price_id}],
                                     "proration_date": int(now.timestamp())}})
    current = StripePrice.get_or_none(StripePrice.price_id == price_id(subscription))
    lines = preview["lines"]["data"]
    return {"subscription_id": subscription_id,
            "current_plan": _price(current) if current else None,
            "new_plan": _price(target),
            "proration_amount": sum(line.amount for line in lines if field(line, "proration")),
            "amount_due": preview.amount_due, "currency": preview.currency,
            "lines": [{"description": field(line, "description"), "amount": line.amount,
                       "proration": bool(field(line, "proration"))} for line in lines]}


def cancel(caller, subscription_id: str, *, settings, now) -> dict:
    """Cancels at the end of the paid period: the plan holds until then."""
    return _modify(caller, subscription_id, "Cancelling the subscription",
                   {"cancel_at_period_end": True}, settings=settings, now=now)


def reactivate(caller, subscription_id: str, *, settings, now) -> dict:
    """Takes a cancellation back before the period ends."""
    return _modify(caller, subscription_id, "Reactivating the subscription",
                   {"cancel_at_period_end": False}, settings=settings, now=now)


def change_price(caller, subscription_id: str, new_price_id: str, *, settings, now) -> dict:
    """Moves the subscription to another of our prices, prorated (Stripe's default)."""
    return _modify(caller, subscription_id, "Changing the subscription", {},
                   new_price_id=new_price_id, settings=settings, now=now)


def _modify(caller, subscription_id: str, what: str, changes: dict, *, new_price_id=None,
            settings, now) -> dict:
    organisation = billing.change(caller, what, settings=settings)
    _ensure_own(organisation, subscription_id)
    if new_price_id is not None and StripePrice.get_or_none(
            StripePrice.price_id == new_price_id) is None:
        raise Invalid(f"No price {new_price_id!r} is for sale here.", code="unknown_price",
                      fields={"price_id": "unknown price"})
    account = client(settings)
    with answering():
        subscription = account.v1.subscriptions.retrieve(subscription_id)
        if subscription.status in ENDED:
            raise Conflict("The subscription has ended; buy a new one with POST "
                           "/v1/organisation/purchase-info.", code="subscription_ended")
        if new_price_id is not None:
            # the item changes its price in place; proration_behavior is left to Stripe's
            # default, create_prorations (localstripe fails when it is given)
            changes = {"items": [{"id": subscription["items"]["data"][0].id,
                                  "plan": new_price_id}]}
        subscription = account.v1.subscriptions.update(subscription_id, params=changes)
    apply(organisation.id, subscription, now=now)
    return shape(subscription)


def _ensure_own(organisation, subscription_id: str) -> None:
    if not subscription_id or organisation.stripe_subscription_id != subscription_id:
        raise NotFound("No such subscription.", code="unknown_subscription")


def _price_of_product(product_id: str, version: str) -> StripePrice:
    prices = list(StripePrice.select().where(StripePrice.product_id == product_id)
                  .order_by(StripePrice.plan_version.desc()))
    if not prices:
        raise NotFound("No such product.", code="unknown_product")
    return next((p for p in prices if p.plan_version == version), prices[0])


# -- 123, 124: payment methods, coupons ----------------------------------------------------

def payment_methods(caller, *, settings) -> list[dict]:
    organisation = billing.read(caller, settings=settings)
    if organisation.stripe_customer_id is None:
        return []
    account = client(settings)
    with answering():
        customer = account.v1.customers.retrieve(organisation.stripe_customer_id)
        methods = account.v1.payment_methods.list(params={
            "customer": customer.id, "type": "card", "limit": 100}).data
    default = field(field(customer, "invoice_settings"), "default_payment_method")
    return [{"id": m.id, "provider": "stripe", "type": m.type, "brand": m.card.brand,
             "last4": m.card.last4, "exp_month": m.card.exp_month,
             "exp_year": m.card.exp_year, "default": m.id == default} for m in methods]


def coupon(code: str, *, settings) -> dict:
    """A promotion code (what a customer types, such as 25OFF) or else a coupon id: its
    discount and validity. 404 for neither."""
    if not settings.billing:
        raise NotFound("No such coupon.", code="unknown_coupon")
    account = client(settings)
    with answering():
        promotions = account.v1.promotion_codes.list(params={"code": code, "limit": 1}).data
        if promotions:
            promotion = promotions[0]
            found, active = promotion.coupon, promotion.active
        else:
            found = _coupon_or_none(account, code)
            if found is None:
                raise NotFound("No such coupon.", code="unknown_coupon")
            promotion, active = None, True
    expires = field(promotion, "expires_at") if promotion else None
    return {"code": promotion.code if promotion else found.id, "coupon_id": found.id,
            "name": field(found, "name"), "percent_off": field(found, "percent_off"),
            "amount_off": field(found, "amount_off"), "currency": field(found, "currency"),
            "duration": found.duration, "duration_in_months": field(found, "duration_in_months"),
            "valid": bool(active and found.valid), "expires_at": _time(expires)}


def _coupon_or_none(account, code: str):
    try:
        return account.v1.coupons.retrieve(code)
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            return None
        raise


# -- what the API answers ------------------------------------------------------------------

def shape(subscription) -> dict:
    price = StripePrice.get_or_none(StripePrice.price_id == price_id(subscription))
    return {"id": subscription.id, "status": subscription.status,
            "plan": price.plan if price else None,
            "version": price.plan_version if price else None,
            "price": _price(price) if price else None,
            "cancel_at_period_end": bool(field(subscription, "cancel_at_period_end")),
            "current_period_start": _time(field(subscription, "current_period_start")),
            "current_period_end": _time(field(subscription, "current_period_end")),
            "trial_end": _time(field(subscription, "trial_end")),
            "canceled_at": _time(field(subscription, "canceled_at"))}


def _price(price: StripePrice) -> dict:
    return {"plan": price.plan, "version": price.plan_version, "price_id": price.price_id,
            "product_id": price.product_id, "amount": price.amount, "currency": price.currency,
            "interval": price.interval}


def _invoice(invoice) -> dict:
    return {"id": invoice.id, "number": field(invoice, "number"), "status": invoice.status,
            "amount_due": invoice.amount_due, "amount_paid": invoice.amount_paid,
            "currency": invoice.currency, "created_at": _time(field(invoice, "created")),
            "period_start": _time(field(invoice, "period_start")),
            "period_end": _time(field(invoice, "period_end")),
            "hosted_invoice_url": field(invoice, "hosted_invoice_url")}


def _time(timestamp) -> str | None:
    if timestamp is None:
        return None
    return isoformat(dt.datetime.fromtimestamp(int(timestamp), dt.timezone.utc))
