"""The operator's Stripe account, through the official `stripe` library, and what we keep of
it: the price of each paid plan version (`pinghome billing setup` makes them) and the webhook
events already applied.

Requests are pinned to Stripe API version 2020-08-27: the shapes read here (`plan` on a
subscription item, `current_period_end` on the subscription, `subscription` on an invoice)
are that version's, which is also what localstripe, the fake Stripe of the tests, answers.
Stripe keeps serving a pinned version, so what the tests exercise is what runs.

The client sends over the standard library's urllib, not urllib3: `workers.netpolicy` guards
urllib3 for the targets users give us, and the Stripe endpoint is the operator's own setting.
"""
from __future__ import annotations

import contextlib
import functools

import peewee
import stripe

from models import plans
from models.db import BaseModel, UtcDateTimeField, UUIDModel
from models.errors import UpstreamFailed

API_VERSION = "2020-08-27"
INTERVAL = "month"


class StripePrice(UUIDModel):
    """The Stripe price of a plan version, as `billing setup` made or found it."""
    plan = peewee.CharField(max_length=32)
    plan_version = peewee.CharField(max_length=16)
    product_id = peewee.CharField(max_length=255)
    price_id = peewee.CharField(max_length=255, unique=True)
    amount = peewee.IntegerField()
    currency = peewee.CharField(max_length=3)
    interval = peewee.CharField(max_length=8)

    class Meta:
        indexes = ((("plan", "plan_version"), True),)


class StripeEvent(BaseModel):
    """A webhook event applied: a second delivery of the same id changes nothing."""
    id = peewee.CharField(max_length=255, primary_key=True)
    type = peewee.CharField(max_length=100)
    received_at = UtcDateTimeField()


def client(settings) -> stripe.StripeClient:
    return _client(settings.stripe_api_key, settings.stripe_api_base)


@functools.lru_cache(maxsize=4)
def _client(api_key: str, api_base: str) -> stripe.StripeClient:
    return stripe.StripeClient(api_key, stripe_version=API_VERSION,
                               base_addresses={"api": api_base}, max_network_retries=2,
                               http_client=stripe.UrllibClient())


@contextlib.contextmanager
def answering():
    """Stripe's refusals and failures as our errors: what Stripe could not do is a 502 with
    Stripe's message, never a 500."""
    try:
        yield
    except stripe.StripeError as exc:
        raise UpstreamFailed(f"Stripe: {exc.user_message or exc}",
                             code="stripe_" + (exc.code or "error")) from exc


def field(thing, name: str):
    """A field of a Stripe object, None where it has none (or is None itself): the library's
    objects are not dicts, and some fields are missing in some API versions."""
    return getattr(thing, name, None) if thing is not None else None


def lookup_key(plan: str, version: str) -> str:
    return f"pinghome_{plan}_{version}".replace("-", "_")


def product_id(plan: str) -> str:
    return f"pinghome_{plan}".replace("-", "_")


def setup(settings) -> list[tuple[str, str, str]]:
    """Makes the Stripe product and monthly price of each paid plan version the catalogue
    lists, unless it exists already (found by the price's lookup key), and records them.
    A second run finds them all and changes nothing. Answers (plan, version, what was done)."""
    account = client(settings)
    done = []
    with answering():
        for (plan, version), (amount, currency) in plans.PRICES.items():
            key = lookup_key(plan, version)
            found = account.v1.prices.list(params={"lookup_keys": [key], "limit": 1}).data
            if found:
                price, what = found[0], "found"
            else:
                price = account.v1.prices.create(params={
                    "product": _product(account, plan), "unit_amount": amount,
                    "currency": currency, "recurring": {"interval": INTERVAL},
                    "lookup_key": key, "nickname": f"{plans.label(plan)} {version}",
                    "metadata": {"plan": plan, "version": version}})
                what = "created"
            _record(plan, version, price)
            done.append((plan, version, what))
    return done


def _product(account, plan: str) -> str:
    try:
        return account.v1.products.retrieve(product_id(plan)).id
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:
            raise
    return account.v1.products.create(params={
        "id": product_id(plan), "name": f"Pinghome {plans.label(plan)}",
        "metadata": {"plan": plan}}).id


def _record(plan: str, version: str, price) -> None:
    fields = {"product_id": price.product, "price_id": price.id, "amount": price.unit_amount,
              "currency": price.currency,
              "interval": field(field(price, "recurring"), "interval") or INTERVAL}
    (StripePrice.insert(plan=plan, plan_version=version, **fields)
     .on_conflict(conflict_target=[StripePrice.plan, StripePrice.plan_version],
                  update=fields).execute())
