"""Stripe's signed webhooks (`POST /v1/billing/stripe-webhook` on the gateway): what Stripe
does on its own (a payment made or failed, a period ended, a Checkout completed) moves the
organisation's plan.

Each event is applied once: its id is recorded in the transaction that applies it, so a
second delivery (Stripe retries until it gets a 2xx) changes nothing. The subscription an
event is about is read back from Stripe before it is applied, so events that arrive out of
order still leave the plan Stripe has now. An event about a customer that is not one of our
organisations' is recorded and ignored (one Stripe account may serve more than us).
"""
from __future__ import annotations

import peewee
import stripe

from models import plans
from models.billing import subscriptions
from models.billing.stripe_account import StripeEvent, answering, client, field
from models.db import database
from models.errors import BadRequest, NotFound
from models.organisations import Organisation

SUBSCRIPTION_EVENTS = {"customer.subscription.created", "customer.subscription.updated",
                       "customer.subscription.deleted"}
PAID = {"invoice.paid", "invoice.payment_succeeded"}
FAILED = "invoice.payment_failed"
CHECKOUT_DONE = "checkout.session.completed"


def receive(payload: bytes, signature: str | None, *, settings, now) -> str:
    """Verifies and applies one event; answers what became of it: `applied`, `duplicate`
    or `ignored`. `BadRequest` for a body or signature that is not Stripe's."""
    if not settings.billing:
        raise NotFound("Billing is off on this installation.", code="billing_off")
    try:
        event = stripe.Webhook.construct_event(payload, signature or "",
                                               settings.stripe_webhook_secret)
    except stripe.SignatureVerificationError:
        raise BadRequest("The Stripe-Signature header does not verify with this "
                         "installation's STRIPE_WEBHOOK_SECRET.", code="bad_signature") from None
    except ValueError:
        raise BadRequest("The body is not a Stripe event.", code="bad_event") from None
    if StripeEvent.get_or_none(StripeEvent.id == event.id) is not None:
        return "duplicate"
    thing = event.data.object
    organisation = Organisation.get_or_none(
        Organisation.stripe_customer_id == field(thing, "customer"))
    subscription = None
    if organisation is not None:
        subscription = _fetch(event, thing, organisation, settings)
    with database.atomic():
        try:
            with database.atomic():
                StripeEvent.create(id=event.id, type=event.type, received_at=now)
        except peewee.IntegrityError:
            return "duplicate"               # the same event, applied by another delivery
        if organisation is None:
            return "ignored"
        if subscription is not None and organisation.stripe_subscription_id in (
                None, subscription.id):
            subscriptions.apply(organisation.id, subscription, now=now)
        if event.type == FAILED:
            # a paid plan holds for the grace, once, from the first failure
            (Organisation.update(grace_until=now + subscriptions.GRACE)
             .where(Organisation.id == organisation.id, Organisation.grace_until.is_null(),
                    Organisation.plan != plans.FREE_PLAN[0]).execute())
        if event.type in PAID:
            (Organisation.update(grace_until=None)
             .where(Organisation.id == organisation.id).execute())
    return "applied"


def _fetch(event, thing, organisation, settings):
    """The subscription the event is about, as Stripe has it now; for a completed Checkout,
    the payment method it added made the customer's default."""
    account = client(settings)
    with answering():
        if event.type in SUBSCRIPTION_EVENTS:
            return account.v1.subscriptions.retrieve(thing.id)
        if event.type in PAID or event.type == FAILED:
            subscription_id = field(thing, "subscription")
            return account.v1.subscriptions.retrieve(subscription_id) if subscription_id \
                else None
        if event.type == CHECKOUT_DONE and field(thing, "setup_intent"):
            # the customer's default pays its subscription's invoices (it has no default
            # of its own), the one after a trial among them
            method = account.v1.setup_intents.retrieve(thing.setup_intent).payment_method
            account.v1.customers.update(organisation.stripe_customer_id, params={
                "invoice_settings": {"default_payment_method": method}})
    return None
