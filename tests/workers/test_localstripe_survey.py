"""What localstripe (the fake Stripe of the `localstripe` fixture) does for billing, through the
official `stripe` library: each test pins one behaviour we may rely on, or one gap to work
around, so that an upgrade that changes either shows here first.

In short: customers, products, plans (not prices), subscriptions, invoices, previews
(`Invoice.create_preview`), cancel at period end, plan changes, coupons (stored only), cards and
signed webhooks work; prices, promotion codes, Checkout, `trial_settings` and a `trialing`
status do not exist. Its answers keep the shapes of Stripe's 2017-2020 API (`plan` on a
subscription item, `current_period_end` on the subscription), whatever `stripe.api_version`.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import stripe

from tests.http_sink import HttpSink
from tests.localstripe_server import API_KEY
from tests.polling import wait_until
from workers import netpolicy

VISA = "4242424242424242"
DECLINED_ON_ATTACH = "4000000000000002"
DECLINED_ON_CHARGE = "4000000000000341"
DECLINED_AFTER_3DS = "4000008260003178"       # asks for 3-D Secure, then the charge fails
FAILING_IBAN = "DE62370400440532013001"       # a SEPA debit that fails half a second later
WEBHOOK_SECRET = "whsec_survey"


@pytest.fixture(autouse=True)
def stripe_api(localstripe, monkeypatch):
    """The library pointed at localstripe. It sends over requests, hence urllib3, which
    `workers.netpolicy` keeps off loopback outside a permissive policy."""
    monkeypatch.setattr(stripe, "api_base", localstripe)
    monkeypatch.setattr(stripe, "api_key", API_KEY)
    # localstripe answers some unsupported parameters with a 500, which the library retries
    monkeypatch.setattr(stripe, "max_network_retries", 0)
    with netpolicy.policy(allow_private=True):
        yield


def _plan(amount=1500, interval="month", **fields):
    """A recurring plan whose id is its lookup key (localstripe has no prices)."""
    product = stripe.Product.create(name="Pro", metadata={"tier": "pro"})
    return stripe.Plan.create(id=f"pro_monthly_{uuid.uuid4().hex[:8]}", product=product.id,
                              amount=amount, currency="eur", interval=interval, **fields)


def _customer(card_number=None, **payment_method):
    """A customer; with a card number (or `sepa_debit=`), that method attached as default."""
    customer = stripe.Customer.create(email=f"{uuid.uuid4().hex[:8]}@example.com")
    if card_number:
        payment_method = {"type": "card", "card": {"number": card_number, "exp_month": 12,
                                                   "exp_year": 2035, "cvc": "123"}}
    if payment_method:
        method = stripe.PaymentMethod.create(**payment_method)
        stripe.PaymentMethod.attach(method.id, customer=customer.id)
        stripe.Customer.modify(customer.id,
                               invoice_settings={"default_payment_method": method.id})
    return customer


def _config(localstripe, path, body):
    request = urllib.request.Request(f"{localstripe}/_config/{path}", method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


@pytest.fixture
def stripe_webhooks(localstripe):
    """An HTTP sink that localstripe posts the invoice events to, signed with WEBHOOK_SECRET.
    localstripe cannot forget a webhook: afterwards it is kept with no events, muted."""
    sink = HttpSink().start()
    events = ["invoice.payment_failed", "invoice.payment_succeeded",
              "payment_intent.payment_failed"]
    _config(localstripe, "webhooks/survey",
            {"url": f"{sink.url}/stripe", "secret": WEBHOOK_SECRET, "events": events})
    yield sink
    _config(localstripe, "webhooks/survey",
            {"url": f"{sink.url}/stripe", "secret": WEBHOOK_SECRET, "events": []})
    sink.stop()


def _events_about(sink, object_id, count=1):
    """The verified events about one object, once `count` have arrived (localstripe waits a
    second before it posts)."""
    def arrived():
        events = [stripe.Webhook.construct_event(r.body, r.headers["stripe-signature"],
                                                 WEBHOOK_SECRET)
                  for r in sink.received("/stripe")]
        about = [e for e in events if e.data.object.id == object_id]
        return about if len(about) >= count else None
    return wait_until(arrived, timeout=10, message=f"{count} event(s) about {object_id} expected")


# Customers, products, plans


def test_a_customer_is_created_with_email_and_metadata():
    customer = stripe.Customer.create(email="ada@example.com", metadata={"organisation_id": "7"})

    assert customer.id.startswith("cus_")
    assert stripe.Customer.retrieve(customer.id).metadata.to_dict() == {"organisation_id": "7"}
    assert customer.email == "ada@example.com"


def test_a_monthly_plan_stands_in_for_a_price_with_its_lookup_key_as_id():
    plan = _plan(1500, metadata={"lookup_key": "pro_monthly"})

    found = stripe.Plan.retrieve(plan.id)
    assert (found.amount, found.currency, found.interval, found.interval_count) == \
        (1500, "eur", "month", 1)
    assert found.metadata.lookup_key == "pro_monthly"
    assert stripe.Product.retrieve(found.product).metadata.tier == "pro"
    assert plan.id in [p.id for p in stripe.Plan.list(limit=100).data]


def test_prices_and_their_lookup_keys_are_not_served():
    product = stripe.Product.create(name="Pro")
    with pytest.raises(stripe.APIError, match="404"):
        stripe.Price.create(product=product.id, unit_amount=1500, currency="eur",
                            recurring={"interval": "month"}, lookup_key="pro_monthly")
    with pytest.raises(stripe.APIError, match="404"):
        stripe.Price.list(lookup_keys=["pro_monthly"])


# Subscriptions and invoices


def test_a_trial_without_card_has_no_invoice_and_stays_incomplete_not_trialing():
    customer, plan = _customer(), _plan()

    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}],
                                              trial_period_days=14)

    found = stripe.Subscription.retrieve(subscription.id, expand=["latest_invoice"])
    assert (found.status, found.trial_period_days) == ("incomplete", 14)
    assert found.trial_start is None and found.trial_end is None
    assert found.latest_invoice is None
    assert stripe.Invoice.list(subscription=subscription.id).data == []


@pytest.mark.parametrize("unsupported", [
    {"trial_settings": {"end_behavior": {"missing_payment_method": "cancel"}}},
    {"payment_behavior": "default_incomplete"},
])
def test_a_trial_is_refused_with_stripes_trial_without_card_parameters(unsupported):
    customer, plan = _customer(), _plan()
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}],
                                   trial_period_days=14, **unsupported)


def test_a_subscription_paid_by_card_is_active_with_its_paid_invoice():
    customer, plan = _customer(VISA), _plan(1500)

    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}])

    found = stripe.Subscription.retrieve(subscription.id, expand=["latest_invoice"])
    assert found.status == "active"
    assert found["items"].data[0].plan.id == plan.id
    assert found.current_period_end > found.current_period_start
    invoice = found.latest_invoice
    assert (invoice.status, invoice.amount_due, invoice.amount_paid) == ("paid", 1500, 1500)
    assert invoice.subscription == subscription.id
    assert [i.id for i in stripe.Invoice.list(subscription=subscription.id).data] == [invoice.id]


def test_a_preview_of_a_plan_change_credits_the_whole_last_invoice():
    """Not prorated by time: the last invoice comes back whole as 'Unused time'."""
    customer, pro, team = _customer(VISA), _plan(1500), _plan(4500)
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": pro.id}])
    item = subscription["items"].data[0]

    preview = stripe.Invoice.create_preview(
        customer=customer.id, subscription=subscription.id,
        subscription_details={"items": [{"id": item.id, "plan": team.id}],
                              "proration_date": subscription.current_period_start + 3600})

    assert preview.id.startswith("upcoming_in_")
    assert preview.amount_due == 3000
    assert [(line.amount, line.proration) for line in preview.lines.data] == \
        [(4500, False), (-1500, True)]
    assert stripe.Subscription.retrieve(subscription.id)["items"].data[0].plan.id == pro.id


def test_cancel_at_period_end_is_set_and_taken_back_without_an_update_event():
    customer, plan = _customer(VISA), _plan()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}])

    cancelling = stripe.Subscription.modify(subscription.id, cancel_at_period_end=True)
    assert (cancelling.cancel_at_period_end, cancelling.status) == (True, "active")
    kept = stripe.Subscription.modify(subscription.id, cancel_at_period_end=False)
    assert kept.cancel_at_period_end is False

    updates = stripe.Event.list(type="customer.subscription.updated", limit=100).data
    assert [e for e in updates if e.data.object.id == subscription.id] == []


def test_a_plan_change_leaves_an_unused_time_credit_for_the_next_invoice():
    customer, pro, team = _customer(VISA), _plan(1500), _plan(4500)
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": pro.id}])
    item = subscription["items"].data[0]

    changed = stripe.Subscription.modify(subscription.id, items=[{"id": item.id, "plan": team.id}])

    assert changed["items"].data[0].plan.id == team.id
    pending = stripe.InvoiceItem.list(customer=customer.id).data
    assert [(i.amount, i.description, i.proration) for i in pending] == \
        [(-1500, "Unused time", True)]
    assert len(stripe.Invoice.list(subscription=subscription.id).data) == 1  # none for the change


def test_a_plan_change_with_proration_behavior_fails_with_a_server_error():
    customer, pro, team = _customer(VISA), _plan(1500), _plan(4500)
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": pro.id}])
    item = subscription["items"].data[0]

    with pytest.raises(stripe.APIError, match="500"):
        stripe.Subscription.modify(subscription.id, items=[{"id": item.id, "plan": team.id}],
                                   proration_behavior="create_prorations")
    assert stripe.Subscription.retrieve(subscription.id)["items"].data[0].plan.id == pro.id


# Coupons, promotion codes, Checkout


def test_a_percent_off_coupon_is_stored_but_cannot_be_applied():
    coupon_id = f"25OFF_{uuid.uuid4().hex[:8]}"
    coupon = stripe.Coupon.create(id=coupon_id, percent_off=25, duration="forever")
    assert (coupon.percent_off, coupon.duration, coupon.valid) == (25.0, "forever", True)
    assert stripe.Coupon.retrieve(coupon_id).percent_off == 25.0

    customer, plan = _customer(VISA), _plan()
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}],
                                   coupon=coupon_id)
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Customer.modify(customer.id, coupon=coupon_id)


def test_promotion_codes_are_not_served():
    coupon_id = f"25OFF_{uuid.uuid4().hex[:8]}"
    stripe.Coupon.create(id=coupon_id, percent_off=25, duration="once")
    with pytest.raises(stripe.APIError, match="404"):
        stripe.PromotionCode.create(coupon=coupon_id, code="25OFF")
    with pytest.raises(stripe.APIError, match="404"):
        stripe.PromotionCode.list(code="25OFF")


def test_checkout_sessions_are_not_served():
    customer = _customer()
    with pytest.raises(stripe.APIError, match="404"):
        stripe.checkout.Session.create(mode="setup", customer=customer.id, currency="eur",
                                       payment_method_types=["card"],
                                       success_url="http://pinghome.test/billing/done",
                                       cancel_url="http://pinghome.test/billing")


# Payment methods and failed payments


def test_a_card_is_created_and_attached_to_a_customer():
    customer = stripe.Customer.create(email="ada@example.com")
    card = stripe.PaymentMethod.create(type="card", card={"number": VISA, "exp_month": 12,
                                                          "exp_year": 2035, "cvc": "123"})

    attached = stripe.PaymentMethod.attach(card.id, customer=customer.id)

    assert card.id.startswith("pm_")
    assert (attached.customer, attached.card.brand, attached.card.last4) == \
        (customer.id, "visa", "4242")
    listed = stripe.PaymentMethod.list(customer=customer.id, type="card").data
    assert [m.id for m in listed] == [card.id]


def test_a_card_declined_on_attach_raises_a_card_error():
    customer = stripe.Customer.create(email="ada@example.com")
    card = stripe.PaymentMethod.create(type="card", card={
        "number": DECLINED_ON_ATTACH, "exp_month": 12, "exp_year": 2035, "cvc": "123"})

    with pytest.raises(stripe.CardError) as declined:
        stripe.PaymentMethod.attach(card.id, customer=customer.id)
    assert declined.value.code == "card_declined"


def test_a_card_declined_on_charge_leaves_the_first_invoice_open_and_sends_no_event():
    customer, plan = _customer(DECLINED_ON_CHARGE), _plan()

    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}],
                                              expand=["latest_invoice.payment_intent"])

    assert subscription.status == "incomplete"
    invoice = subscription.latest_invoice
    assert invoice.status == "open"
    assert invoice.payment_intent.status == "requires_payment_method"
    assert invoice.payment_intent.last_payment_error.code == "card_declined"
    failures = stripe.Event.list(type="invoice.payment_failed", limit=100).data
    assert [e for e in failures if e.data.object.id == invoice.id] == []


def _authenticate(localstripe, payment_intent):
    """What Stripe.js does after the customer passes 3-D Secure (a localstripe-only route)."""
    body = urllib.parse.urlencode({"client_secret": payment_intent.client_secret,
                                   "success": "true"}).encode()
    request = urllib.request.Request(
        f"{localstripe}/v1/payment_intents/{payment_intent.id}/_authenticate", data=body,
        headers={"Authorization": f"Bearer {API_KEY}"})
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(request, timeout=5)
    return answer.value


def test_a_charge_declined_after_3ds_posts_a_signed_invoice_payment_failed(localstripe,
                                                                            stripe_webhooks):
    customer, plan = _customer(DECLINED_AFTER_3DS), _plan()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}],
                                              expand=["latest_invoice.payment_intent"])
    invoice = subscription.latest_invoice
    assert invoice.payment_intent.status == "requires_action"

    assert _authenticate(localstripe, invoice.payment_intent).code == 402

    [event] = _events_about(stripe_webhooks, invoice.id)
    assert event.type == "invoice.payment_failed"
    assert (event.data.object.subscription, event.data.object.status) == \
        (subscription.id, "open")
    assert stripe.Subscription.retrieve(subscription.id).status == "incomplete"


def test_a_failed_sepa_debit_posts_invoice_payment_failed_and_cancels_the_subscription(
        stripe_webhooks):
    customer = _customer(type="sepa_debit", sepa_debit={"iban": FAILING_IBAN})
    subscription = stripe.Subscription.create(customer=customer.id,
                                              items=[{"plan": _plan().id}])
    assert subscription.status == "active"      # until the debit fails

    [event] = _events_about(stripe_webhooks, subscription.latest_invoice)

    assert event.type == "invoice.payment_failed"
    assert stripe.Subscription.retrieve(subscription.id).status == "canceled"


def test_a_webhook_signature_is_refused_with_another_secret(stripe_webhooks):
    customer, plan = _customer(VISA), _plan()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}])

    [event] = _events_about(stripe_webhooks, subscription.latest_invoice)
    assert event.type == "invoice.payment_succeeded"
    request = next(r for r in stripe_webhooks.received("/stripe")
                   if subscription.latest_invoice.encode() in r.body)
    assert request.headers["stripe-signature"].startswith("t=")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(request.body, request.headers["stripe-signature"],
                                       "whsec_another")
