"""What we add to localstripe (1.15.10) where it lacks a Stripe endpoint our billing code calls.

`install(server.app)` runs in the localstripe subprocess (tests/localstripe_server.py) before the
app starts; the routes go through localstripe's own middlewares (a Bearer sk_ key) and store.
Each answer follows the object of Stripe's API reference in the 2020-08-27 shapes localstripe
answers; errors are Stripe's `{"error": {"type": "invalid_request_error", "message", "param"}}`,
400 for a bad or missing parameter, 404 for an unknown id (localstripe's status, in URL or body).

- Prices (localstripe serves plans only): POST /v1/prices (`product`, `unit_amount`,
  `currency`, `recurring[interval]`, `recurring[interval_count]`, `lookup_key`,
  `transfer_lookup_key`, `nickname`, `metadata`), GET /v1/prices/{id}, GET /v1/prices
  (`lookup_keys[]`, `product`, `active`, `limit`, `starting_after`; newest first). Each price
  is also a localstripe Plan with the same id, so subscriptions (`items[0][plan]=price_...`),
  invoices and previews take it, as Stripe takes a price id wherever it takes a plan id. A
  lookup key already in use is refused (400) unless `transfer_lookup_key=true` moves it. Only
  recurring prices: a one-time price has no plan to stand for it.
- Trials: localstripe leaves a subscription created with `trial_period_days` or `trial_end`
  (and no invoice) `incomplete` with no trial dates. Stripe makes it `trialing` from now until
  now + days * 86400 (or `trial_end`), its current period being the trial; so does this, in the
  object and in its customer.subscription.created event. localstripe still issues no invoice for
  it (Stripe issues one of 0) and never ends a trial.
- Checkout Sessions, mode=setup only (to add a payment method): POST /v1/checkout/sessions
  (`mode`, `customer`, `currency` or `payment_method_types[]`, `success_url`, `cancel_url`,
  `metadata`, `setup_intent_data[metadata]`), GET /v1/checkout/sessions/{id}. A session is
  `open` with a localstripe SetupIntent for its customer; its `url` (this server's
  /checkout/pay/{id}) is not served, no one completes it here.
- Promotion codes (localstripe stores coupons only): POST /v1/promotion_codes (`coupon`, `code`,
  `active`, `max_redemptions`, `expires_at`, `metadata`), GET /v1/promotion_codes/{id}, GET
  /v1/promotion_codes (`code`, `coupon`, `active`, `limit`, `starting_after`). The coupon is
  embedded whole; codes compare case-insensitively and an active one is unique, as in Stripe;
  nothing redeems them (localstripe cannot apply a coupon).
"""
from __future__ import annotations

import functools
import random
import string
import time

from localstripe import server
from localstripe.resources import (Coupon, Customer, Event, List, Plan, Product, SetupIntent,
                                   StripeObject, Subscription, UserError, random_id, store,
                                   try_convert_to_bool, try_convert_to_int)


def install(app) -> None:
    """The routes below on localstripe's app (before it starts) and the trial fix."""
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, _answer(handler))
    _start_trials()


def _answer(handler):
    """A handler of (request, parameters) answering a StripeObject, as localstripe's routes."""
    async def route(request):
        if request.method == "POST":
            data = await server.get_post_data(request) or {}
        else:
            data = server.unflatten_data(request.query)
        expand = data.pop("expand", None)
        return server.json_response(handler(request, **data)._export(expand=expand))
    return route


def _refuse(param, message):
    return UserError(400, message, {"param": param})


def _no_such(kind, id, param=None):
    return UserError(404, f"No such {kind}: '{id}'",
                     {"code": "resource_missing", **({"param": param} if param else {})})


def _required(value, param):
    if value in (None, ""):
        raise _refuse(param, f"Missing required param: {param}.")
    return value


def _unknown(parameters):
    if parameters:
        name = sorted(parameters)[0]
        raise _refuse(name, f"Received unknown parameter: {name}")


def _int(value, param, minimum=0):
    number = try_convert_to_int(value)
    if type(number) is not int or number < minimum:
        raise _refuse(param, f"Invalid integer: {value}")
    return number


def _bool(value, param):
    flag = try_convert_to_bool(value)
    if type(flag) is not bool:
        raise _refuse(param, f"Invalid boolean: {value}")
    return flag


def _metadata(value, param="metadata"):
    if value in (None, ""):
        return {}
    if type(value) is not dict:
        raise _refuse(param, "Invalid object")
    return dict(value)


def _retrieve(cls, kind, id, param=None):
    found = store.get(f"{cls.object}:{id}")
    if found is None:
        raise _no_such(kind, id, param)
    return found


def _listed(request, objects, limit=None, starting_after=None):
    """Stripe's list object, newest first."""
    answer = List(request.path, limit=limit, starting_after=starting_after)
    answer._list = sorted(objects[::-1], key=lambda o: o.created, reverse=True)
    return answer


def _all(cls):
    return [o for k, o in store.items() if k.startswith(cls.object + ":")]


# Prices


class Price(StripeObject):
    object = "price"
    _id_prefix = "price_"

    def __init__(self, product, unit_amount, currency, recurring, lookup_key, nickname,
                 metadata):
        super().__init__("price_" + random_id(24))
        self.active = True
        self.billing_scheme = "per_unit"
        self.currency = currency
        self.unit_amount = unit_amount
        self.unit_amount_decimal = str(unit_amount)
        self.product = product
        self.recurring = recurring
        self.type = "recurring"
        self.lookup_key = lookup_key
        self.nickname = nickname
        self.metadata = metadata
        self.tiers_mode = None
        self.transform_quantity = None


def create_price(request, product=None, unit_amount=None, currency=None, recurring=None,
                 lookup_key=None, transfer_lookup_key=None, nickname=None, metadata=None,
                 **unknown):
    _unknown(unknown)
    _retrieve(Product, "product", _required(product, "product"), "product")
    unit_amount = _int(_required(unit_amount, "unit_amount"), "unit_amount")
    currency = str(_required(currency, "currency")).lower()
    if type(_required(recurring, "recurring")) is not dict:
        raise _refuse("recurring", "Invalid object")
    recurring = dict(recurring)
    interval = recurring.pop("interval", None)
    if interval not in ("day", "week", "month", "year"):
        raise _refuse("recurring[interval]", "Invalid recurring[interval]: must be one of day, "
                                             "week, month, or year")
    interval_count = _int(recurring.pop("interval_count", 1), "recurring[interval_count]", 1)
    _unknown({f"recurring[{k}]" for k in recurring})
    transfer = transfer_lookup_key is not None and _bool(transfer_lookup_key,
                                                         "transfer_lookup_key")
    holder = next((p for p in _all(Price) if lookup_key and p.lookup_key == lookup_key), None)
    if holder and not transfer:
        raise _refuse("lookup_key", f"A price (`{holder.id}`) is already using that lookup key.")
    metadata = _metadata(metadata)

    price = Price(product, unit_amount, currency,
                  {"aggregate_usage": None, "interval": interval, "interval_count": interval_count,
                   "trial_period_days": None, "usage_type": "licensed"},
                  lookup_key or None, nickname, metadata)
    Plan(id=price.id, product=product, amount=unit_amount, currency=currency, interval=interval,
         interval_count=interval_count, nickname=nickname, metadata=dict(metadata))
    if holder:
        holder.lookup_key = None
    return price


def retrieve_price(request, **unknown):
    _unknown(unknown)
    return _retrieve(Price, "price", request.match_info["id"])


def list_prices(request, lookup_keys=None, product=None, active=None, limit=None,
                starting_after=None, **unknown):
    _unknown(unknown)
    prices = _all(Price)
    if lookup_keys is not None:
        keys = [lookup_keys] if type(lookup_keys) is str else list(lookup_keys)
        prices = [p for p in prices if p.lookup_key in keys]
    if product is not None:
        prices = [p for p in prices if p.product == product]
    if active is not None:
        active = _bool(active, "active")
        prices = [p for p in prices if p.active == active]
    return _listed(request, prices, limit, starting_after)


# Trials


def _start_trials():
    """A subscription created with a trial and no invoice is `trialing` over the trial."""
    if getattr(Subscription, "_trials_started", False):
        return
    init = Subscription.__init__
    period_start = Subscription.current_period_start.fget
    period_end = Subscription.current_period_end.fget

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        now = int(time.time())
        days = self.trial_period_days
        trial_end = self.trial_end or (now + days * 86400 if days else None)
        if self.latest_invoice is None and trial_end and trial_end > now:
            self.status, self.trial_start, self.trial_end = "trialing", now, trial_end
            created = next(reversed(store.values()))    # the event __init__ ended with
            if isinstance(created, Event) and created.data["object"]["id"] == self.id:
                created.data = {"object": self._export()}

    def trialing(during, otherwise):
        return property(lambda s: during(s) if s.status == "trialing" else otherwise(s))

    Subscription.__init__ = __init__
    Subscription.current_period_start = trialing(lambda s: s.trial_start, period_start)
    Subscription.current_period_end = trialing(lambda s: s.trial_end, period_end)
    Subscription._trials_started = True


# Checkout Sessions


class CheckoutSession(StripeObject):
    object = "checkout.session"
    _id_prefix = "cs_test_"

    def __init__(self, base_url, customer, currency, payment_method_types, success_url,
                 cancel_url, metadata, setup_intent):
        super().__init__("cs_test_" + random_id(40))
        self.mode = "setup"
        self.customer = customer
        self.currency = currency
        self.payment_method_types = payment_method_types
        self.status = "open"
        self.payment_status = "no_payment_required"
        self.url = f"{base_url}/checkout/pay/{self.id}"
        self.success_url = success_url
        self.cancel_url = cancel_url
        self.metadata = metadata
        self.setup_intent = setup_intent
        self.payment_intent = None
        self.subscription = None
        self.expires_at = self.created + 24 * 3600


def create_checkout_session(request, mode=None, customer=None, currency=None,
                            payment_method_types=None, success_url=None, cancel_url=None,
                            metadata=None, setup_intent_data=None, **unknown):
    _unknown(unknown)
    if _required(mode, "mode") != "setup":
        raise _refuse("mode", "Only mode=setup is served by this fake (tests/stripe_extras.py)")
    _retrieve(Customer, "customer", _required(customer, "customer"), "customer")
    _required(success_url, "success_url")
    if not currency and not payment_method_types:
        raise _refuse("currency", "Missing required param: currency.")
    types = payment_method_types or ["card"]
    types = [types] if type(types) is str else list(types)
    intent = dict(setup_intent_data or {})
    intent_metadata = _metadata(intent.pop("metadata", None), "setup_intent_data[metadata]")
    _unknown({f"setup_intent_data[{k}]" for k in intent})
    metadata = _metadata(metadata)

    setup_intent = SetupIntent(customer=customer, usage="off_session",
                               payment_method_types=types, metadata=intent_metadata)
    return CheckoutSession(f"{request.scheme}://{request.host}", customer,
                           currency.lower() if currency else None, types, success_url,
                           cancel_url, metadata, setup_intent.id)


def retrieve_checkout_session(request, **unknown):
    _unknown(unknown)
    return _retrieve(CheckoutSession, "checkout.session", request.match_info["id"])


# Promotion codes


class PromotionCode(StripeObject):
    object = "promotion_code"
    _id_prefix = "promo_"

    def __init__(self, coupon, code, active, max_redemptions, expires_at, metadata):
        super().__init__("promo_" + random_id(24))
        self.coupon = coupon
        self.code = code
        self.active = active
        self.customer = None
        self.max_redemptions = max_redemptions
        self.times_redeemed = 0
        self.expires_at = expires_at
        self.metadata = metadata
        self.restrictions = {"first_time_transaction": False, "minimum_amount": None,
                             "minimum_amount_currency": None}


def create_promotion_code(request, coupon=None, code=None, active=None, max_redemptions=None,
                          expires_at=None, metadata=None, **unknown):
    _unknown(unknown)
    coupon = _retrieve(Coupon, "coupon", _required(coupon, "coupon"), "coupon")
    code = str(code) if code else "".join(random.choices(string.ascii_uppercase + string.digits,
                                                         k=8))
    active = True if active is None else _bool(active, "active")
    if max_redemptions is not None:
        max_redemptions = _int(max_redemptions, "max_redemptions", 1)
    if expires_at is not None:
        expires_at = _int(expires_at, "expires_at", int(time.time()) + 1)
    metadata = _metadata(metadata)
    if active and any(p.active and p.code.lower() == code.lower() for p in _all(PromotionCode)):
        raise _refuse("code", f"An active promotion code with `code: {code}` already exists.")
    return PromotionCode(coupon, code, active, max_redemptions, expires_at, metadata)


def retrieve_promotion_code(request, **unknown):
    _unknown(unknown)
    return _retrieve(PromotionCode, "promotion_code", request.match_info["id"])


def list_promotion_codes(request, code=None, coupon=None, active=None, limit=None,
                         starting_after=None, **unknown):
    _unknown(unknown)
    codes = _all(PromotionCode)
    if code is not None:
        codes = [p for p in codes if p.code.lower() == str(code).lower()]
    if coupon is not None:
        codes = [p for p in codes if p.coupon.id == coupon]
    if active is not None:
        active = _bool(active, "active")
        codes = [p for p in codes if p.active == active]
    return _listed(request, codes, limit, starting_after)


ROUTES = [
    ("POST", "/v1/prices", create_price),
    ("GET", "/v1/prices/{id}", retrieve_price),
    ("GET", "/v1/prices", list_prices),
    ("POST", "/v1/checkout/sessions", create_checkout_session),
    ("GET", "/v1/checkout/sessions/{id}", retrieve_checkout_session),
    ("POST", "/v1/promotion_codes", create_promotion_code),
    ("GET", "/v1/promotion_codes/{id}", retrieve_promotion_code),
    ("GET", "/v1/promotion_codes", list_promotion_codes),
]
