"""What the fake Stripe of the `localstripe` fixture does for billing, through the official
`stripe` library: each test pins one behaviour we may rely on, or one gap to work around, so
that an upgrade of localstripe (or a change to our extras) that changes either shows here first.

localstripe itself serves customers, products, plans, subscriptions, invoices, previews
(`Invoice.create_preview`), cancel at period end, plan changes, coupons (stored only), cards and
signed webhooks. Where it lacks what our billing code calls, tests/stripe_extras.py adds it to
the same process, shaped like Stripe's reference: prices (each also a plan of the same id, so
subscriptions and previews take it), a `trialing` status with its dates for a subscription
created with a trial, setup-mode Checkout Sessions and promotion codes (found by code in any
case, their coupon embedded). Still missing: `trial_settings`,
`payment_behavior=default_incomplete`, applying a coupon or promotion code, a `price` key on
subscription items (they take `plan`, a price id included), completing a Checkout Session, and
an invoice of 0 for a trial. Answers keep the shapes of Stripe's 2017-2020 API (`plan` on a
subscription item, `current_period_end` on the subscription), whatever `stripe.api_version`.
"""
from __future__ import annotations

import time
import uuid

import pytest
import stripe

from tests.http_sink import HttpSink
from tests.localstripe_server import API_KEY, authenticate_3ds, configure
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
    """A recurring plan of localstripe's own, under an id of ours."""
    product = stripe.Product.create(name="Pro", metadata={"tier": "pro"})
    return stripe.Plan.create(id=f"pro_monthly_{uuid.uuid4().hex[:8]}", product=product.id,
                              amount=amount, currency="eur", interval=interval, **fields)


def _price(amount=1500, interval="month", **fields):
    """A recurring price (tests/stripe_extras.py) of a product of its own."""
    product = stripe.Product.create(name="Pro", metadata={"tier": "pro"})
    return stripe.Price.create(product=product.id, unit_amount=amount, currency="eur",
                               recurring={"interval": interval}, **fields)


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


@pytest.fixture
def stripe_webhooks(localstripe):
    """An HTTP sink that localstripe posts the invoice events to, signed with WEBHOOK_SECRET.
    localstripe cannot forget a webhook: afterwards it is kept with no events, muted."""
    sink = HttpSink().start()
    events = ["invoice.payment_failed", "invoice.payment_succeeded",
              "payment_intent.payment_failed"]
    configure(localstripe, "webhooks/survey",
            {"url": f"{sink.url}/stripe", "secret": WEBHOOK_SECRET, "events": events})
    yield sink
    configure(localstripe, "webhooks/survey",
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


def test_a_price_with_a_lookup_key_is_served_by_our_extras_and_subscribable():
    lookup_key = f"pro_monthly_{uuid.uuid4().hex[:8]}"
    price = _price(1500, lookup_key=lookup_key, nickname="Pro", metadata={"plan": "pro"})

    assert price.id.startswith("price_") and len(price.id) == len("price_") + 24
    assert (price.object, price.type, price.active, price.livemode) == \
        ("price", "recurring", True, False)
    assert (price.unit_amount, price.currency, price.lookup_key, price.nickname) == \
        (1500, "eur", lookup_key, "Pro")
    assert price.recurring.to_dict() == {"aggregate_usage": None, "interval": "month",
                                         "interval_count": 1, "trial_period_days": None,
                                         "usage_type": "licensed"}
    assert price.metadata.to_dict() == {"plan": "pro"}
    assert stripe.Price.retrieve(price.id).unit_amount == 1500
    found = stripe.Price.list(lookup_keys=[lookup_key, "nobody_uses_this"], active=True)
    assert [p.id for p in found.data] == [price.id]
    assert [p.id for p in stripe.Price.list(product=price.product).data] == [price.id]
    assert stripe.Plan.retrieve(price.id).amount == 1500       # the plan standing for it

    customer, team = _customer(VISA), _price(4500)
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": price.id}],
                                              expand=["latest_invoice"])
    assert subscription.status == "active"
    assert subscription["items"].data[0].plan.id == price.id
    assert (subscription.latest_invoice.status, subscription.latest_invoice.amount_paid) == \
        ("paid", 1500)

    item = subscription["items"].data[0]
    preview = stripe.Invoice.create_preview(
        customer=customer.id, subscription=subscription.id,
        subscription_details={"items": [{"id": item.id, "plan": team.id}]})
    assert [line.amount for line in preview.lines.data] == [4500, -1500]


def test_a_subscription_item_takes_a_price_id_as_its_plan_not_as_price():
    customer, price = _customer(VISA), _price()
    with pytest.raises(stripe.InvalidRequestError):
        stripe.Subscription.create(customer=customer.id, items=[{"price": price.id}])


def test_a_price_is_refused_a_lookup_key_another_price_has_unless_it_transfers_it():
    lookup_key = f"pro_monthly_{uuid.uuid4().hex[:8]}"
    first = _price(1500, lookup_key=lookup_key)

    with pytest.raises(stripe.InvalidRequestError) as refused:
        _price(1800, lookup_key=lookup_key)
    assert (refused.value.http_status, refused.value.param) == (400, "lookup_key")
    assert first.id in refused.value.user_message

    second = _price(1800, lookup_key=lookup_key, transfer_lookup_key=True)
    assert [p.id for p in stripe.Price.list(lookup_keys=[lookup_key]).data] == [second.id]
    assert stripe.Price.retrieve(first.id).lookup_key is None


def test_an_unknown_price_is_not_found_and_a_price_needs_an_existing_product():
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe.Price.retrieve("price_unknown")
    assert (unknown.value.http_status, unknown.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.InvalidRequestError) as no_product:
        stripe.Price.create(product="prod_unknown", unit_amount=100, currency="eur",
                            recurring={"interval": "month"})
    assert (no_product.value.http_status, no_product.value.param) == (404, "product")
    with pytest.raises(stripe.InvalidRequestError) as no_interval:
        stripe.Price.create(product=stripe.Product.create(name="Pro").id, unit_amount=100,
                            currency="eur", recurring={"interval": "fortnight"})
    assert (no_interval.value.http_status, no_interval.value.param) == \
        (400, "recurring[interval]")


# Subscriptions and invoices


def test_a_trial_without_card_is_trialing_for_its_days_with_no_invoice():
    """Our extras' fix: localstripe left it `incomplete` without trial dates. Stripe would
    also issue an invoice of 0; localstripe issues none."""
    customer, price = _customer(), _price()
    before = int(time.time())

    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": price.id}],
                                              trial_period_days=14)

    found = stripe.Subscription.retrieve(subscription.id, expand=["latest_invoice"])
    assert (found.status, found.trial_period_days) == ("trialing", 14)
    assert before <= found.trial_start <= time.time()
    assert found.trial_end == found.trial_start + 14 * 86400
    assert (found.current_period_start, found.current_period_end) == \
        (found.trial_start, found.trial_end)
    assert found.latest_invoice is None
    assert stripe.Invoice.list(subscription=subscription.id).data == []
    assert subscription.id in [s.id for s in stripe.Subscription.list(
        customer=customer.id, status="trialing").data]
    created = stripe.Event.list(type="customer.subscription.created", limit=100).data
    [event] = [e for e in created if e.data.object.id == subscription.id]
    assert event.data.object.status == "trialing"


def test_a_trial_until_a_date_is_trialing_until_then():
    customer, plan = _customer(VISA), _plan()
    trial_end = int(time.time()) + 3 * 86400

    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}],
                                              trial_end=trial_end)

    assert (subscription.status, subscription.trial_end) == ("trialing", trial_end)
    assert subscription.current_period_end == trial_end


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


def test_a_promotion_code_is_served_by_our_extras_and_found_by_its_code_in_any_case():
    coupon_id = f"25OFF_{uuid.uuid4().hex[:8]}"
    stripe.Coupon.create(id=coupon_id, percent_off=25, duration="once")
    code = f"Spring{uuid.uuid4().hex[:6]}"

    promotion = stripe.PromotionCode.create(coupon=coupon_id, code=code, max_redemptions=100,
                                            metadata={"campaign": "spring"})

    assert promotion.id.startswith("promo_") and promotion.object == "promotion_code"
    assert (promotion.code, promotion.active, promotion.max_redemptions,
            promotion.times_redeemed, promotion.expires_at) == (code, True, 100, 0, None)
    assert (promotion.coupon.id, promotion.coupon.percent_off) == (coupon_id, 25.0)
    assert promotion.metadata.to_dict() == {"campaign": "spring"}
    assert stripe.PromotionCode.retrieve(promotion.id).coupon.duration == "once"
    [found] = stripe.PromotionCode.list(code=code.upper(), active=True).data
    assert (found.id, found.coupon.percent_off) == (promotion.id, 25.0)
    assert stripe.PromotionCode.list(code=code.lower(), active=False).data == []

    with pytest.raises(stripe.InvalidRequestError) as taken:
        stripe.PromotionCode.create(coupon=coupon_id, code=code.lower())
    assert (taken.value.http_status, taken.value.param) == (400, "code")
    generated = stripe.PromotionCode.create(coupon=coupon_id)
    assert generated.code and generated.code != code


def test_a_promotion_code_for_an_unknown_coupon_is_refused():
    with pytest.raises(stripe.InvalidRequestError) as refused:
        stripe.PromotionCode.create(coupon=f"NOPE_{uuid.uuid4().hex[:8]}", code="NOPE")
    assert (refused.value.http_status, refused.value.param, refused.value.code) == \
        (404, "coupon", "resource_missing")


def test_a_setup_checkout_session_for_a_customer_is_open_with_a_url_and_a_setup_intent():
    customer = _customer()

    session = stripe.checkout.Session.create(
        mode="setup", customer=customer.id, currency="eur",
        success_url="http://pinghome.test/billing/done", cancel_url="http://pinghome.test/billing",
        metadata={"organisation_id": "7"}, setup_intent_data={"metadata": {"purpose": "card"}},
        expand=["setup_intent"])

    assert session.id.startswith("cs_test_") and session.object == "checkout.session"
    assert (session.mode, session.customer, session.status) == ("setup", customer.id, "open")
    assert session.url.startswith(("https://", "http://")) and session.id in session.url
    assert (session.success_url, session.cancel_url) == \
        ("http://pinghome.test/billing/done", "http://pinghome.test/billing")
    assert session.metadata.to_dict() == {"organisation_id": "7"}
    assert session.expires_at > session.created
    assert (session.setup_intent.customer, session.setup_intent.status) == \
        (customer.id, "requires_payment_method")
    assert session.setup_intent.metadata.to_dict() == {"purpose": "card"}
    found = stripe.checkout.Session.retrieve(session.id)
    assert (found.status, found.setup_intent) == ("open", session.setup_intent.id)


def test_a_checkout_session_needs_a_known_customer_and_a_success_url():
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        stripe.checkout.Session.create(mode="setup", customer="cus_unknown", currency="eur",
                                       success_url="http://pinghome.test/billing/done")
    assert (unknown.value.http_status, unknown.value.param) == (404, "customer")
    with pytest.raises(stripe.InvalidRequestError) as no_url:
        stripe.checkout.Session.create(mode="setup", customer=_customer().id,
                                       payment_method_types=["card"])
    assert (no_url.value.http_status, no_url.value.param) == (400, "success_url")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe.checkout.Session.retrieve("cs_test_unknown")
    assert missing.value.http_status == 404


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


def test_a_charge_declined_after_3ds_posts_a_signed_invoice_payment_failed(localstripe,
                                                                            stripe_webhooks):
    customer, plan = _customer(DECLINED_AFTER_3DS), _plan()
    subscription = stripe.Subscription.create(customer=customer.id, items=[{"plan": plan.id}],
                                              expand=["latest_invoice.payment_intent"])
    invoice = subscription.latest_invoice
    assert invoice.payment_intent.status == "requires_action"

    assert authenticate_3ds(localstripe, invoice.payment_intent) == 402

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
