"""Billing off (the embedded default and, for now, the only form): the billing endpoints
check the caller's role, then say plainly that billing is off; coupons are unknown; status
page subscribers still unsubscribe without a token on the path billing shares."""
from __future__ import annotations

import pytest

from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast

SUBSCRIPTION = "/v1/subscription/sub_1MowQVLkdIwHu7ixeRlqHVzs"


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="manager")


def call(client, method, path, token=None, body=None):
    return client.simulate_request(method, path, json=body,
                                   headers=bearer(token) if token else {})


READS = [("GET", f"{SUBSCRIPTION}/payments", None),
         ("GET", f"{SUBSCRIPTION}/proration/prod_NWjs8kKbJWmuuc", None),
         ("GET", "/v1/payment-methods", None)]
CHANGES = [("DELETE", SUBSCRIPTION, None), ("PUT", SUBSCRIPTION, {}),
           ("PATCH", SUBSCRIPTION, {"price_id": "price_1MU7isEyoIQbyvYhiIpiQlw2"}),
           ("POST", "/v1/organisation/purchase-info", {}),
           ("POST", "/v1/organisation/purchase-info", {"plan": "team", "version": "v1"}),
           ("PUT", "/v1/organisation/plan", {})]


@pytest.mark.parametrize("method, path, body", READS + CHANGES)
def test_billing_endpoints_say_billing_is_off(client, cast, method, path, body):
    answer = call(client, method, path, cast.alice_token, body)
    assert answer.status_code == 409, answer.json
    assert answer.json["error"]["code"] == "billing_off"
    assert "PINGHOME_BILLING" in answer.json["error"]["message"]


@pytest.mark.parametrize("method, path, body", CHANGES)
def test_only_owners_change_billing(client, cast, method, path, body):
    answer = call(client, method, path, cast.bob_token, body)
    assert (answer.status_code, answer.json["error"]["code"]) == (403, "role_required")


@pytest.mark.parametrize("method, path, body", READS + CHANGES[1:])
def test_billing_needs_a_token(client, method, path, body):
    assert call(client, method, path, None, body).status_code == 401


def test_a_bad_token_on_the_shared_delete_is_refused_not_taken_for_a_subscriber(client):
    answer = client.simulate_delete(SUBSCRIPTION, headers={"Authorization": "Bearer nonsense"})
    assert answer.status_code == 401


@pytest.mark.parametrize("path, body, field", [
    (SUBSCRIPTION, {"price_id": "gold"}, "price_id"),
    (SUBSCRIPTION, {}, "price_id"),
])
def test_a_bad_price_is_refused(client, cast, path, body, field):
    answer = call(client, "PATCH", path, cast.alice_token, body)
    assert answer.status_code == 422 and field in answer.json["error"]["fields"]


def test_a_bad_purchase_is_refused(client, cast):
    answer = call(client, "POST", "/v1/organisation/purchase-info", cast.alice_token,
                  {"plan": "Gold plan!", "version": "1"})
    assert answer.status_code == 422
    assert {"plan", "version"} <= set(answer.json["error"]["fields"])


def test_coupons_are_unknown_with_billing_off(client, cast):
    for code in ("25OFF", "x" * 300, "%00"):
        answer = call(client, "GET", f"/v1/coupon/{code}", cast.bob_token)
        assert (answer.status_code, answer.json["error"]["code"]) == (404, "unknown_coupon")
    assert call(client, "GET", "/v1/coupon/25OFF").status_code == 401


def test_plan_limits_work_with_billing_off(client, cast):
    answer = call(client, "GET", "/v1/plan/team/v1/limits", cast.bob_token)
    assert answer.status_code == 200 and answer.json["modules"]
