"""Billing on (`PINGHOME_BILLING=stripe`) against localstripe, the fake Stripe of the
`localstripe` fixture, with the Stripe-shaped routes it lacks (prices, promotion codes,
Checkout, trialing subscriptions) added by `tests.stripe_extras`: buying a plan, paying,
changing price with proration, cancelling and reactivating, a promotion code, a failed
payment through its grace to `free`, and the signed webhooks on the gateway (applied once,
refused unsigned)."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import falcon.testing
import pytest

from models import clock
from models.billing import stripe_account, subscriptions
from models.billing.stripe_account import StripeEvent, StripePrice
from models.organisations import Organisation
from pinghome.localservers import free_port
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast
from tests.localstripe_server import API_KEY, authenticate_3ds, configure
from tests.polling import wait_until
from tests.served import Served
from workers.broker import ping

ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec_pinghome_tests"
VISA = "4242424242424242"
DECLINED_AFTER_3DS = "4000008260003178"     # asks for 3-D Secure, then the charge fails
FAILING_IBAN = "DE62370400440532013001"


@pytest.fixture(scope="module")
def billing_settings(settings, localstripe):
    return settings.replace(billing="stripe", stripe_api_key=API_KEY,
                            stripe_webhook_secret=WEBHOOK_SECRET, stripe_api_base=localstripe,
                            default_plan=("free", "v1"))


@pytest.fixture(scope="module")
def billing_client(billing_settings, broker):
    from api.app import create_app
    return falcon.testing.TestClient(create_app(billing_settings,
                                                broker_check=functools.partial(ping, broker)))


@pytest.fixture(scope="module")
def stripe_gateway(billing_settings, broker, localstripe):
    """The gateway on loopback, where localstripe posts its signed events (to every webhook
    it knows: it cannot forget one, so afterwards this one is muted)."""
    from api.gateway import create_gateway
    port = free_port()
    served = Served(create_gateway(billing_settings,
                                   broker_check=functools.partial(ping, broker)), port, threads=8)
    url = f"http://127.0.0.1:{port}/v1/billing/stripe-webhook"
    name = f"pinghome-{uuid.uuid4().hex[:8]}"
    configure(localstripe, f"webhooks/{name}", {"url": url, "secret": WEBHOOK_SECRET})
    yield url
    configure(localstripe, f"webhooks/{name}", {"url": url, "secret": WEBHOOK_SECRET,
                                                 "events": ["pinghome.muted"]})
    served.close()


@pytest.fixture
def stripe(billing_settings):
    """Our Stripe client, for what a test does on Stripe's side (what a person does in
    Checkout, what Stripe does on its own); and the catalogue's prices, set up."""
    stripe_account.setup(billing_settings)
    return stripe_account.client(billing_settings)


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="manager")


def call(client, method, path, token, body=None):
    return client.simulate_request(method, path, json=body, headers=bearer(token))


def organisation(cast) -> Organisation:
    return Organisation.get_by_id(cast.alice.organisation_id)


def price(plan) -> StripePrice:
    return StripePrice.get(StripePrice.plan == plan, StripePrice.plan_version == "v1")


def paying_customer(stripe, cast, *, card=None, **method) -> str:
    """The organisation's Stripe customer with a default payment method, as Checkout leaves
    it; its trial used, so a purchase is paid at once."""
    customer = stripe.v1.customers.create(params={"email": cast.alice.email})
    if card:
        method = {"type": "card", "card": {"number": card, "exp_month": 12, "exp_year": 2035,
                                           "cvc": "123"}}
    made = stripe.v1.payment_methods.create(params=method)
    stripe.v1.payment_methods.attach(made.id, params={"customer": customer.id})
    stripe.v1.customers.update(customer.id, params={
        "invoice_settings": {"default_payment_method": made.id}})
    Organisation.update(stripe_customer_id=customer.id, trial_used=True).where(
        Organisation.id == cast.alice.organisation_id).execute()
    return customer.id


def buy(client, cast, plan="team") -> dict:
    answer = call(client, "POST", "/v1/organisation/purchase-info", cast.alice_token,
                  {"plan": plan, "version": "v1"})
    assert answer.status_code == 201, answer.json
    return answer.json


def signed(payload: bytes, secret=WEBHOOK_SECRET, at=None) -> dict:
    at = int(at or time.time())
    signature = hmac.new(secret.encode(), b"%d." % at + payload, hashlib.sha256).hexdigest()
    return {"Stripe-Signature": f"t={at},v1={signature}", "Content-Type": "application/json"}


def post(url, body: bytes, headers: dict) -> tuple[int, dict]:
    """A delivery as Stripe makes it (over the standard library: `workers.netpolicy` keeps
    urllib3, hence requests, off loopback in this process)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def event(kind, thing) -> bytes:
    return json.dumps({"id": f"evt_{uuid.uuid4().hex}", "object": "event", "type": kind,
                       "created": int(time.time()), "livemode": False,
                       "data": {"object": thing}}).encode()


# -- the catalogue -------------------------------------------------------------------------

def test_billing_setup_makes_each_paid_plans_price_once(billing_settings):
    first = stripe_account.setup(billing_settings)
    prices = {(p.plan, p.plan_version): p.price_id for p in StripePrice.select()}
    second = stripe_account.setup(billing_settings)

    assert {(plan, version) for plan, version, _ in first} == \
        {("developer", "v1"), ("team", "v1"), ("business", "v1")}
    assert [what for _, _, what in second] == ["found"] * 3
    assert {(p.plan, p.plan_version): p.price_id for p in StripePrice.select()} == prices
    account = stripe_account.client(billing_settings)
    listed = account.v1.prices.list(params={"lookup_keys": ["pinghome_team_v1"]}).data
    assert [(p.id, p.unit_amount, p.currency) for p in listed] == \
        [(prices[("team", "v1")], 2900, "usd")]


def test_the_operator_sets_billing_up_with_the_command(settings, localstripe):
    env = {**os.environ, "DATABASE_URL": settings.database_url,
           "PINGHOME_DATA_DIR": settings.data_dir, "PINGHOME_SECRET_KEY": settings.secret_key,
           "PINGHOME_BILLING": "stripe", "STRIPE_API_KEY": API_KEY,
           "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_BASE": localstripe}
    command = [sys.executable, "-m", "pinghome", "billing", "setup"]

    runs = [subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=60) for _ in range(2)]

    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr + runs[1].stderr
    assert "team/v1: " in runs[0].stdout and "2900 usd a month" in runs[0].stdout
    assert runs[1].stdout.count(": found price_") == 3
    assert StripePrice.select().count() == 3
    off = subprocess.run(command, cwd=ROOT, env={**env, "PINGHOME_BILLING": ""},
                         capture_output=True, text=True, timeout=60)
    assert off.returncode == 2 and "billing is off" in off.stderr


# -- buying, paying ------------------------------------------------------------------------

def test_a_purchase_starts_a_trial_without_a_card_and_answers_a_checkout_link(
        billing_client, billing_settings, stripe, cast):
    bought = buy(billing_client, cast)

    assert (bought["status"], bought["plan"], bought["version"]) == ("trialing", "team", "v1")
    assert bought["price"]["amount"] == 2900 and bought["price"]["currency"] == "usd"
    trial_end = dt.datetime.fromisoformat(bought["trial_end"].replace("Z", "+00:00"))
    assert abs(trial_end - clock.now() - dt.timedelta(days=14)) < dt.timedelta(minutes=5)
    assert bought["checkout_url"].startswith("http")
    held = organisation(cast)
    assert (held.plan, held.stripe_subscription_id, held.trial_used) == \
        ("team", bought["subscription_id"], True)
    customer = stripe.v1.customers.retrieve(held.stripe_customer_id)
    assert customer.metadata["organisation"] == str(held.id)
    # asked again (a client's retry), the same subscription and a new link
    again = buy(billing_client, cast)
    assert again["subscription_id"] == bought["subscription_id"]
    assert organisation(cast).stripe_customer_id == held.stripe_customer_id


def test_a_purchase_after_the_trial_is_paid_at_once_and_its_payment_listed(
        billing_client, stripe, cast):
    paying_customer(stripe, cast, card=VISA)

    bought = buy(billing_client, cast)

    assert (bought["status"], organisation(cast).plan) == ("active", "team")
    answer = call(billing_client, "GET", f"/v1/subscription/{bought['subscription_id']}/payments",
                  cast.bob_token)      # members read
    assert answer.status_code == 200, answer.json
    [payment] = answer.json["payments"]
    assert (payment["status"], payment["amount_paid"], payment["currency"]) == \
        ("paid", 2900, "usd")
    assert answer.json["plan"] == "team" and answer.json["status"] == "active"
    methods = call(billing_client, "GET", "/v1/payment-methods", cast.bob_token).json
    assert [(m["provider"], m["type"], m["brand"], m["last4"], m["default"])
            for m in methods["payment_methods"]] == [("stripe", "card", "visa", "4242", True)]


def test_a_completed_checkout_makes_its_card_the_default(billing_client, stripe, cast,
                                                        stripe_gateway):
    bought = buy(billing_client, cast)
    assert call(billing_client, "GET", "/v1/payment-methods", cast.alice_token).json == \
        {"payment_methods": []}
    customer_id = organisation(cast).stripe_customer_id
    # what the person does at the Checkout link: a card, confirmed on the session's intent
    session = stripe.v1.checkout.sessions.retrieve(bought["checkout_url"].rsplit("/", 1)[1])
    assert (session.mode, session.customer) == ("setup", customer_id)
    card = stripe.v1.payment_methods.create(params={"type": "card", "card": {
        "number": VISA, "exp_month": 12, "exp_year": 2035, "cvc": "123"}})
    stripe.v1.setup_intents.confirm(session.setup_intent, params={"payment_method": card.id})
    # Stripe attaches it to the intent's customer then (localstripe does not)
    stripe.v1.payment_methods.attach(card.id, params={"customer": customer_id})
    completed = event("checkout.session.completed", {
        "id": session.id, "object": "checkout.session", "mode": "setup",
        "customer": customer_id, "setup_intent": session.setup_intent, "status": "complete"})

    answer = post(stripe_gateway, completed, signed(completed))

    assert answer == (200, {"result": "applied"}), answer
    customer = stripe.v1.customers.retrieve(customer_id)
    assert customer.invoice_settings.default_payment_method == card.id
    methods = call(billing_client, "GET", "/v1/payment-methods", cast.alice_token).json
    assert [(m["id"], m["default"]) for m in methods["payment_methods"]] == [(card.id, True)]
    assert organisation(cast).plan == "team"        # still trialing, now with a card


# -- changing, cancelling ------------------------------------------------------------------

def test_a_price_change_is_previewed_then_made_with_proration(billing_client, stripe, cast):
    paying_customer(stripe, cast, card=VISA)
    subscription = buy(billing_client, cast)["subscription_id"]
    business = price("business")

    preview = call(billing_client, "GET",
                   f"/v1/subscription/{subscription}/proration/{business.product_id}",
                   cast.bob_token)
    assert preview.status_code == 200, preview.json
    assert (preview.json["current_plan"]["plan"], preview.json["new_plan"]["plan"]) == \
        ("team", "business")
    assert preview.json["proration_amount"] < 0          # the unused time of the team plan
    assert preview.json["amount_due"] == 9900 + preview.json["proration_amount"]
    assert preview.json["currency"] == "usd"

    changed = call(billing_client, "PATCH", f"/v1/subscription/{subscription}", cast.alice_token,
                   {"price_id": business.price_id})
    assert changed.status_code == 200, changed.json
    assert changed.json["subscription"]["plan"] == "business"
    assert organisation(cast).plan == "business"
    pending = stripe.v1.invoice_items.list(params={
        "customer": organisation(cast).stripe_customer_id}).data
    assert [item.proration for item in pending] == [True]


def test_an_unknown_price_or_product_is_refused_and_changes_nothing(billing_client, stripe,
                                                                   cast):
    paying_customer(stripe, cast, card=VISA)
    subscription = buy(billing_client, cast)["subscription_id"]

    unknown = call(billing_client, "PATCH", f"/v1/subscription/{subscription}",
                   cast.alice_token, {"price_id": "price_NotOneOfOurs"})
    malformed = call(billing_client, "PATCH", f"/v1/subscription/{subscription}",
                     cast.alice_token, {"price_id": "team"})
    product = call(billing_client, "GET", f"/v1/subscription/{subscription}/proration/prod_x",
                   cast.alice_token)
    plan = call(billing_client, "POST", "/v1/organisation/purchase-info", cast.alice_token,
                {"plan": "gold", "version": "v1"})

    assert (unknown.status_code, unknown.json["error"]["code"]) == (422, "unknown_price")
    assert malformed.status_code == 422
    assert (product.status_code, product.json["error"]["code"]) == (404, "unknown_product")
    assert (plan.status_code, plan.json["error"]["code"]) == (422, "unknown_plan")
    assert organisation(cast).plan == "team"


def test_a_cancellation_holds_the_plan_to_the_period_end_and_can_be_taken_back(
        billing_client, stripe, cast, stripe_gateway):
    paying_customer(stripe, cast, card=VISA)
    subscription = buy(billing_client, cast)["subscription_id"]

    cancelled = call(billing_client, "DELETE", f"/v1/subscription/{subscription}",
                     cast.alice_token)
    assert cancelled.status_code == 200, cancelled.json
    assert cancelled.json["subscription"]["cancel_at_period_end"] is True
    assert organisation(cast).plan == "team"
    kept = call(billing_client, "PUT", f"/v1/subscription/{subscription}", cast.alice_token, {})
    assert kept.status_code == 200, kept.json
    assert kept.json["subscription"]["cancel_at_period_end"] is False

    # the period ends cancelled: Stripe deletes the subscription and says so
    stripe.v1.subscriptions.cancel(subscription)
    wait_until(lambda: organisation(cast).plan == "free", timeout=15,
               message="customer.subscription.deleted should put the organisation on free")
    ended = call(billing_client, "PUT", f"/v1/subscription/{subscription}", cast.alice_token, {})
    assert (ended.status_code, ended.json["error"]["code"]) == (409, "subscription_ended")


def test_plan_sync_reads_the_subscription_stripe_has_now(billing_client, stripe, cast):
    paying_customer(stripe, cast, card=VISA)
    buy(billing_client, cast)
    Organisation.update(plan="free").where(
        Organisation.id == cast.alice.organisation_id).execute()     # a webhook missed

    synced = call(billing_client, "PUT", "/v1/organisation/plan", cast.alice_token, {})

    assert synced.status_code == 200, synced.json
    assert (synced.json["plan"], organisation(cast).plan) == ("team", "team")


# -- payments that fail --------------------------------------------------------------------

def test_a_failed_renewal_keeps_the_plan_for_a_grace_week_then_free(
        billing_client, billing_settings, stripe, cast, stripe_gateway, localstripe):
    customer = paying_customer(stripe, cast, card=VISA)
    subscription = buy(billing_client, cast)["subscription_id"]
    # the next period's invoice, charged to a card that fails (localstripe renews nothing,
    # so the renewal invoice is made here)
    failing = stripe.v1.payment_methods.create(params={"type": "card", "card": {
        "number": DECLINED_AFTER_3DS, "exp_month": 12, "exp_year": 2035, "cvc": "123"}})
    stripe.v1.payment_methods.attach(failing.id, params={"customer": customer})
    stripe.v1.customers.update(customer, params={
        "invoice_settings": {"default_payment_method": failing.id}})
    stripe.v1.invoice_items.create(params={"customer": customer, "amount": 2900,
                                           "currency": "usd", "subscription": subscription})
    renewal = stripe.v1.invoices.create(params={"customer": customer,
                                                "subscription": subscription})
    paying = stripe.v1.invoices.pay(renewal.id, params={"expand": ["payment_intent"]})
    assert authenticate_3ds(localstripe, paying.payment_intent) == 402    # declined

    held = wait_until(lambda: organisation(cast).grace_until and organisation(cast),
                      timeout=15, message="invoice.payment_failed should start the grace")
    assert held.plan == "team"
    assert abs(held.grace_until - clock.now() - dt.timedelta(days=7)) < dt.timedelta(minutes=5)
    assert stripe.v1.subscriptions.retrieve(subscription).status == "past_due"

    assert subscriptions.end_grace(now=held.grace_until - dt.timedelta(seconds=1)) == 0
    assert subscriptions.end_grace(now=held.grace_until) == 1
    assert (organisation(cast).plan, organisation(cast).grace_until) == ("free", None)


# -- the webhook ---------------------------------------------------------------------------

def test_a_webhook_delivered_twice_changes_the_plan_once(billing_client, stripe, cast,
                                                         stripe_gateway):
    paying_customer(stripe, cast, card=VISA)
    subscription = buy(billing_client, cast)["subscription_id"]
    stripe.v1.subscriptions.cancel(subscription)
    wait_until(lambda: organisation(cast).plan == "free", timeout=15)
    Organisation.update(plan="team").where(
        Organisation.id == cast.alice.organisation_id).execute()
    deleted = event("customer.subscription.deleted", {
        "id": subscription, "object": "subscription", "status": "canceled",
        "customer": organisation(cast).stripe_customer_id})

    first = post(stripe_gateway, deleted, signed(deleted))
    assert first == (200, {"result": "applied"})
    assert organisation(cast).plan == "free"
    Organisation.update(plan="team").where(
        Organisation.id == cast.alice.organisation_id).execute()
    second = post(stripe_gateway, deleted, signed(deleted))

    assert second == (200, {"result": "duplicate"})
    assert organisation(cast).plan == "team"            # the second changed nothing
    assert StripeEvent.select().where(
        StripeEvent.id == json.loads(deleted)["id"]).count() == 1


@pytest.mark.parametrize("headers", [
    lambda body: signed(body, secret="whsec_someone_else"),
    lambda body: signed(body, at=time.time() - 3600),                  # replayed
    lambda body: {"Content-Type": "application/json"},
    lambda body: {"Stripe-Signature": "t=1,v1=nonsense"},
])
def test_a_webhook_not_signed_with_our_secret_is_refused(billing_client, stripe, cast,
                                                         stripe_gateway, headers):
    paying_customer(stripe, cast, card=VISA)
    subscription = buy(billing_client, cast)["subscription_id"]
    forged = event("customer.subscription.deleted", {
        "id": subscription, "object": "subscription", "status": "canceled",
        "customer": organisation(cast).stripe_customer_id})

    status, answer = post(stripe_gateway, forged, headers(forged))

    assert (status, answer["error"]["code"]) == (400, "bad_signature")
    assert organisation(cast).plan == "team"
    assert StripeEvent.get_or_none(StripeEvent.id == json.loads(forged)["id"]) is None


def test_a_webhook_body_that_is_not_an_event_is_a_400(stripe_gateway):
    body = b"not json at all"
    status, answer = post(stripe_gateway, body, signed(body))
    assert (status, answer["error"]["code"]) == (400, "bad_event")


# -- coupons -------------------------------------------------------------------------------

def test_a_promotion_code_answers_its_coupons_discount(billing_client, stripe, cast):
    coupon = stripe.v1.coupons.create(params={
        "id": f"launch_{uuid.uuid4().hex[:8]}", "percent_off": 25, "duration": "repeating",
        "duration_in_months": 3})
    code = f"SPRING{uuid.uuid4().hex[:6].upper()}"
    stripe.v1.promotion_codes.create(params={"coupon": coupon.id, "code": code})

    found = call(billing_client, "GET", f"/v1/coupon/{code.lower()}", cast.bob_token)
    by_id = call(billing_client, "GET", f"/v1/coupon/{coupon.id}", cast.bob_token)
    unknown = call(billing_client, "GET", "/v1/coupon/NOSUCHCODE", cast.bob_token)

    assert found.status_code == 200, found.json
    assert {k: found.json[k] for k in ("code", "coupon_id", "percent_off", "duration",
                                       "duration_in_months", "valid")} == \
        {"code": code, "coupon_id": coupon.id, "percent_off": 25, "duration": "repeating",
         "duration_in_months": 3, "valid": True}
    assert by_id.status_code == 200 and by_id.json["percent_off"] == 25
    assert (unknown.status_code, unknown.json["error"]["code"]) == (404, "unknown_coupon")


# -- who may ---------------------------------------------------------------------------------

def test_another_organisations_subscription_is_unknown(billing_client, stripe, cast, settings):
    subscription = buy(billing_client, cast)["subscription_id"]
    other = make_cast(settings)     # Charlie is in an organisation of his own; so is this one

    for token in (cast.charlie_token, other.alice_token):
        for method, path, body in [
                ("GET", f"/v1/subscription/{subscription}/payments", None),
                ("GET", f"/v1/subscription/{subscription}/proration/"
                        f"{price('business').product_id}", None),
                ("DELETE", f"/v1/subscription/{subscription}", None),
                ("PUT", f"/v1/subscription/{subscription}", {}),
                ("PATCH", f"/v1/subscription/{subscription}",
                 {"price_id": price("business").price_id})]:
            answer = call(billing_client, method, path, token, body)
            assert answer.status_code == 404, (method, path, answer.json)
    assert stripe.v1.subscriptions.retrieve(subscription).cancel_at_period_end is False


@pytest.mark.parametrize("role", ["manager", "user"])
def test_a_manager_or_user_cannot_change_billing(billing_client, stripe, settings, role):
    cast = make_cast(settings, bob_role=role)
    subscription = buy(billing_client, cast)["subscription_id"]

    for method, path, body in [
            ("POST", "/v1/organisation/purchase-info", {}),
            ("PUT", "/v1/organisation/plan", {}),
            ("DELETE", f"/v1/subscription/{subscription}", None),
            ("PUT", f"/v1/subscription/{subscription}", {}),
            ("PATCH", f"/v1/subscription/{subscription}",
             {"price_id": price("business").price_id})]:
        answer = call(billing_client, method, path, cast.bob_token, body)
        assert (answer.status_code, answer.json["error"]["code"]) == (403, "role_required")
    assert call(billing_client, "GET", f"/v1/subscription/{subscription}/payments",
                cast.bob_token).status_code == 200           # but reads
    assert stripe.v1.subscriptions.retrieve(subscription).cancel_at_period_end is False
