"""Endpoints 1-8: sign-up, confirmation, sign-in, sign-out, recovery and password change."""
from __future__ import annotations

import datetime as dt

import pytest

from models import accounts, clock
from models.organisations import Membership, Team
from tests.factories.accounts import (PASSWORD, bearer, code_from_outbox, make_customer,
                                      sign_in, unique_email)


REFUSED_CONFIRMATION = {"error": {
    "code": "code_invalid", "message": "The code is wrong or has expired; ask for a new one.",
    "fields": {"confirmation_code": "wrong or expired"}}}
REFUSED_RECOVERY = {"error": {
    "code": "code_invalid", "message": "The code is wrong or has expired; ask for a new one.",
    "fields": {"code": "wrong or expired"}}}


def other_than(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def sign_up(client, remote_addr=None, **overrides):
    body = {"name": "John", "surname": "Smith", "email": unique_email(),
            "password": "examplePassw0rd!", **overrides}
    return client.simulate_post("/v1/account", json=body, remote_addr=remote_addr), body


# -- sign-up ------------------------------------------------------------------------------

def test_sign_up_creates_an_unconfirmed_account_with_organisation_and_owned_team(client):
    response, body = sign_up(client)
    assert response.status_code == 201
    account = response.json
    assert account["email"] == body["email"] and account["confirmed"] is False
    assert [t["role"] for t in account["teams"]] == ["owner"]
    team = Team.get_by_id(account["teams"][0]["id"])
    assert str(team.organisation_id) == account["organisation_id"]
    assert Membership.get(Membership.team == team).role == "owner"


def test_a_new_organisation_gets_the_plan_the_settings_name(settings):
    customer = accounts.sign_up(name="Ada", surname="Lovelace", email=unique_email(),
                                password=PASSWORD, now=clock.now(), ip=None,
                                settings=settings.replace(default_plan=("free", "v1")))
    assert (customer.organisation.plan, customer.organisation.plan_version) == ("free", "v1")


def test_sign_up_mails_a_six_digit_code(client, smtp_sink):
    _, body = sign_up(client)
    mail = smtp_sink.wait_for(body["email"])[0]
    assert mail.subject == "Your Pinghome confirmation code"
    assert code_from_outbox(body["email"]) in mail.body


def test_sign_up_with_a_taken_email_is_a_conflict_whatever_its_case(client):
    _, body = sign_up(client)
    response, _ = sign_up(client, email=body["email"].upper())
    assert response.status_code == 409
    assert response.json["error"]["code"] == "email_taken"


@pytest.mark.parametrize("password", ["short1", "onlyletters", "12345678901", " padded123 "])
def test_sign_up_refuses_a_weak_password_with_a_message_that_says_why(client, password):
    response, _ = sign_up(client, password=password)
    assert response.status_code == 422
    assert "password" in response.json["error"]["fields"]


@pytest.mark.parametrize("change, field", [
    ({"email": "not-an-email"}, "email"),
    ({"name": ""}, "name"),
    ({"name": 12}, "name"),
    ({"surname": None}, "surname"),
    ({"surname": "x" * 101}, "surname"),
    ({"password": ["examplePassw0rd!"]}, "password"),
    ({"name": "nul\u0000byte"}, "name"),
])
def test_sign_up_refuses_each_bad_field_by_name(client, change, field):
    response, _ = sign_up(client, **change)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "invalid_fields"
    assert list(response.json["error"]["fields"]) == [field]


def test_sign_up_lists_every_missing_field(client):
    response = client.simulate_post("/v1/account", json={})
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {"name", "surname", "email", "password"}
    assert response.json["error"]["fields"]["email"] == "is required"


@pytest.mark.parametrize("raw", [b"{", b"not json", b"[1, 2]", b"\"text\"", b"\xff\xfe"])
def test_a_malformed_body_is_a_400(client, raw):
    response = client.simulate_post("/v1/account", body=raw)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_body"


def test_an_oversized_body_is_a_413_and_creates_nothing(client, settings):
    response, _ = sign_up(client, name="x" * settings.max_body_bytes)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "body_too_large"
    assert accounts.Customer.select().count() == 0


def test_sign_ups_from_one_address_are_limited_per_hour(client, settings, smtp_sink):
    limit = int(settings.sign_up_rate_limit.split("/")[0])
    statuses = [sign_up(client, remote_addr="203.0.113.7")[0].status_code for _ in range(limit)]
    assert statuses == [201] * limit
    refused, body = sign_up(client, remote_addr="203.0.113.7")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert not accounts.Customer.select().where(accounts.Customer.email == body["email"]).exists()
    assert sign_up(client, remote_addr="198.51.100.9")[0].status_code == 201   # per address


def test_ipv6_sign_ups_are_limited_per_64_since_a_host_may_pick_any_address_in_it(client,
                                                                                 settings):
    limit = int(settings.sign_up_rate_limit.split("/")[0])
    statuses = [sign_up(client, remote_addr=f"2001:db8:1:2::{n + 1:x}")[0].status_code
                for n in range(limit + 1)]
    assert statuses == [201] * limit + [429]
    assert sign_up(client, remote_addr="2001:db8:1:3::1")[0].status_code == 201


def test_code_mails_to_one_address_are_limited_whatever_the_route_and_the_client(
        client, settings, smtp_sink):
    limit = int(settings.code_send_rate_limit.split("/")[0])
    _, body = sign_up(client, remote_addr="198.51.100.1")
    email = body["email"]
    resends = [client.simulate_post("/v1/account/confirmation-code", json={"email": email},
                                    remote_addr=f"198.51.100.{n}").status_code
               for n in range(2, limit + 2)]
    assert resends == [200] * (limit - 1) + [429]
    recovery = client.simulate_post("/v1/account/password", json={"email": email},
                                    remote_addr="198.51.100.99")
    assert recovery.status_code == 429
    smtp_sink.wait_for(email, count=limit)
    assert accounts.OneTimeCode.select().count() == limit


@pytest.mark.parametrize("path", ["/v1/account/confirmation-code", "/v1/account/password"])
def test_code_requests_from_one_address_are_limited_for_unknown_addresses_alike(
        client, settings, path):
    limit = int(settings.code_send_rate_limit.split("/")[0])
    statuses = [client.simulate_post(path, json={"email": unique_email()},
                                     remote_addr="203.0.113.7").status_code
                for _ in range(limit + 1)]
    assert statuses == [200] * limit + [429]


# -- confirmation -------------------------------------------------------------------------

def test_the_mailed_code_confirms_the_account(client):
    _, body = sign_up(client)
    response = client.simulate_patch("/v1/account", json={
        "email": body["email"], "confirmation_code": code_from_outbox(body["email"])})
    assert response.status_code == 200
    assert response.json["confirmed"] is True


def test_a_wrong_code_does_not_confirm(client):
    _, body = sign_up(client)
    code = code_from_outbox(body["email"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.simulate_patch("/v1/account", json={
        "email": body["email"], "confirmation_code": wrong})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "code_invalid"
    assert not accounts.Customer.get(accounts.Customer.email == body["email"]).is_confirmed


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", 123456])
def test_a_code_that_is_not_six_digits_is_refused_at_the_edge(client, code):
    response = client.simulate_patch("/v1/account", json={"email": unique_email(),
                                                          "confirmation_code": code})
    assert response.status_code == 422
    assert "confirmation_code" in response.json["error"]["fields"]


def test_a_code_works_once(client):
    _, body = sign_up(client)
    confirmation = {"email": body["email"], "confirmation_code": code_from_outbox(body["email"])}
    assert client.simulate_patch("/v1/account", json=confirmation).status_code == 200
    again = client.simulate_patch("/v1/account", json=confirmation)
    assert (again.status_code, again.json) == (422, REFUSED_CONFIRMATION)


def test_an_expired_code_is_refused(client, settings):
    _, body = sign_up(client)
    code = code_from_outbox(body["email"])
    (accounts.OneTimeCode.update(expires_at=clock.now() - dt.timedelta(seconds=1)).execute())
    response = client.simulate_patch("/v1/account", json={"email": body["email"],
                                                          "confirmation_code": code})
    assert (response.status_code, response.json) == (422, REFUSED_CONFIRMATION)
    assert not accounts.Customer.get(accounts.Customer.email == body["email"]).is_confirmed


def test_a_code_dies_after_a_few_wrong_attempts_even_the_right_one(client, settings):
    _, body = sign_up(client)
    code = code_from_outbox(body["email"])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(settings.code_max_attempts):
        response = client.simulate_patch("/v1/account", json={"email": body["email"],
                                                              "confirmation_code": wrong})
        assert response.status_code == 422
    response = client.simulate_patch("/v1/account", json={"email": body["email"],
                                                          "confirmation_code": code})
    assert (response.status_code, response.json) == (422, REFUSED_CONFIRMATION)
    assert not accounts.Customer.get(accounts.Customer.email == body["email"]).is_confirmed


def test_resending_mails_a_new_code_and_the_old_one_stops_working(client, smtp_sink):
    _, body = sign_up(client)
    old = code_from_outbox(body["email"])
    response = client.simulate_post("/v1/account/confirmation-code", json={"email": body["email"]})
    assert response.status_code == 200
    new = code_from_outbox(body["email"])
    smtp_sink.wait_for(body["email"], count=2)
    if old != new:
        stale = client.simulate_patch("/v1/account", json={"email": body["email"],
                                                           "confirmation_code": old})
        assert stale.status_code == 422
    fresh = client.simulate_patch("/v1/account", json={"email": body["email"],
                                                       "confirmation_code": new})
    assert fresh.status_code == 200


def test_resending_for_an_unknown_address_answers_alike_and_mails_nothing(client, smtp_sink):
    email = unique_email()
    response = client.simulate_post("/v1/account/confirmation-code", json={"email": email})
    assert response.status_code == 200
    assert smtp_sink.to(email) == []


def test_confirming_answers_alike_for_an_unknown_address_and_every_known_one(client, settings):
    unconfirmed = make_customer(settings, confirmed=False)
    code = code_from_outbox(unconfirmed.email)
    confirmed = make_customer(settings)
    answers = {
        "unknown": client.simulate_patch("/v1/account", json={
            "email": unique_email(), "confirmation_code": code}),
        "wrong code": client.simulate_patch("/v1/account", json={
            "email": unconfirmed.email, "confirmation_code": other_than(code)}),
        "confirmed already": client.simulate_patch("/v1/account", json={
            "email": confirmed.email, "confirmation_code": code}),
    }
    accounts.OneTimeCode.update(expires_at=clock.now() - dt.timedelta(seconds=1)).execute()
    answers["expired"] = client.simulate_patch("/v1/account", json={
        "email": unconfirmed.email, "confirmation_code": code})
    assert {name: (answer.status_code, answer.json) for name, answer in answers.items()} == {
        name: (422, REFUSED_CONFIRMATION) for name in answers}


def test_recovering_answers_alike_for_an_unknown_address_and_every_known_one(client, settings):
    without_code, with_code = make_customer(settings), make_customer(settings)
    client.simulate_post("/v1/account/password", json={"email": with_code.email})
    code = code_from_outbox(with_code.email)
    def attempt(email, guess):
        return client.simulate_patch("/v1/account/password", json={
            "email": email, "code": guess, "password": "brand-new-pass-2"})
    answers = {"unknown": attempt(unique_email(), code),
               "no recovery asked": attempt(without_code.email, code),
               "wrong code": attempt(with_code.email, other_than(code))}
    assert {name: (answer.status_code, answer.json) for name, answer in answers.items()} == {
        name: (422, REFUSED_RECOVERY) for name in answers}


@pytest.mark.parametrize("path, field", [("/v1/account", "confirmation_code"),
                                         ("/v1/account/password", "code")])
def test_one_address_cannot_try_codes_for_many_accounts(client, settings, path, field):
    limit = int(settings.code_rate_limit.split("/")[0])
    victims = [make_customer(settings, confirmed=False) for _ in range(limit + 1)]
    def guess(victim, address):
        return client.simulate_patch(path, remote_addr=address, json={
            "email": victim.email, field: "000000", "password": "brand-new-pass-2"})
    statuses = [guess(victim, "203.0.113.7").status_code for victim in victims]
    assert statuses == [422] * limit + [429]
    refused = guess(victims[-1], "203.0.113.7")
    assert int(refused.headers["Retry-After"]) >= 1
    assert guess(victims[-1], "198.51.100.9").status_code == 422   # the address is limited


def test_a_recovery_code_dies_after_its_attempts_from_every_address(client, settings):
    customer = make_customer(settings)
    client.simulate_post("/v1/account/password", json={"email": customer.email})
    code = code_from_outbox(customer.email)
    def attempt(guess, n):
        return client.simulate_patch(
            "/v1/account/password", remote_addr=f"198.51.100.{n}",
            json={"email": customer.email, "code": guess, "password": "brand-new-pass-2"})
    for n in range(settings.code_max_attempts):
        assert attempt(other_than(code), n).status_code == 422
    late = attempt(code, 99)
    assert (late.status_code, late.json) == (422, REFUSED_RECOVERY)
    assert client.simulate_post("/v1/auth", json={"email": customer.email,
                                                  "password": PASSWORD}).status_code == 200


def test_code_checks_are_rate_limited(client, settings):
    _, body = sign_up(client)
    limit = int(settings.code_rate_limit.split("/")[0])
    statuses = [client.simulate_patch("/v1/account", json={
        "email": body["email"], "confirmation_code": "000000"}).status_code
        for _ in range(limit + 1)]
    assert statuses[-1] == 429
    assert 429 not in statuses[:limit - settings.code_max_attempts]


# -- sign-in and sign-out -----------------------------------------------------------------

def test_sign_in_answers_tokens_and_the_account(client, settings):
    customer = make_customer(settings)
    response = client.simulate_post("/v1/auth", json={"email": customer.email,
                                                      "password": PASSWORD})
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["access_token"] and body["refresh_token"]
    assert body["expires_in"] == settings.access_token_ttl_seconds
    assert body["account"]["id"] == str(customer.id)
    assert body["account"]["teams"][0]["role"] == "owner"


def test_tokens_are_stored_only_as_hashes(client, settings):
    customer = make_customer(settings)
    tokens = sign_in(settings, customer)
    stored = accounts.Session.get(accounts.Session.customer == customer)
    assert tokens.access_token not in (stored.access_hash, stored.refresh_hash)
    assert len(stored.access_hash) == 64


@pytest.mark.parametrize("email_of, password", [("known", "wrong-password-1"),
                                                ("unknown", PASSWORD)])
def test_wrong_credentials_are_a_401(client, settings, email_of, password):
    customer = make_customer(settings)
    email = customer.email if email_of == "known" else unique_email()
    response = client.simulate_post("/v1/auth", json={"email": email, "password": password})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "wrong_credentials"


def test_an_unconfirmed_account_cannot_sign_in_and_is_told_why(client, settings):
    customer = make_customer(settings, confirmed=False)
    response = client.simulate_post("/v1/auth", json={"email": customer.email,
                                                      "password": PASSWORD})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "account_not_confirmed"
    assert "confirm" in response.json["error"]["message"]


def test_sign_in_is_rate_limited_with_a_retry_after(client, settings):
    customer = make_customer(settings)
    limit = int(settings.sign_in_rate_limit.split("/")[0])
    for _ in range(limit):
        client.simulate_post("/v1/auth", json={"email": customer.email, "password": "nope-123x"})
    response = client.simulate_post("/v1/auth", json={"email": customer.email,
                                                      "password": PASSWORD})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) >= 1


def test_a_token_opens_authenticated_endpoints(client, settings):
    customer = make_customer(settings)
    tokens = sign_in(settings, customer)
    response = client.simulate_get(f"/v1/customer/{customer.id}",
                                   headers=bearer(tokens.access_token))
    assert response.status_code == 200
    assert response.json["email"] == customer.email


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwdw=="])
def test_missing_or_unknown_tokens_are_a_401(client, settings, header):
    customer = make_customer(settings)
    headers = {"Authorization": header} if header else {}
    response = client.simulate_get(f"/v1/customer/{customer.id}", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_sign_out_revokes_the_token_at_once(client, settings):
    customer = make_customer(settings)
    tokens = sign_in(settings, customer)
    response = client.simulate_delete("/v1/auth", headers=bearer(tokens.access_token))
    assert response.status_code == 200
    after = client.simulate_get(f"/v1/customer/{customer.id}", headers=bearer(tokens.access_token))
    assert after.status_code == 401
    refresh = client.simulate_post("/v1/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert refresh.status_code == 401


def test_an_expired_token_is_a_401(client, settings):
    customer = make_customer(settings)
    tokens = sign_in(settings, customer)
    accounts.Session.update(access_expires_at=clock.now() - dt.timedelta(seconds=1)).execute()
    response = client.simulate_get(f"/v1/customer/{customer.id}",
                                   headers=bearer(tokens.access_token))
    assert response.status_code == 401


def test_a_refresh_token_swaps_for_a_new_pair_once(client, settings):
    customer = make_customer(settings)
    tokens = sign_in(settings, customer)
    response = client.simulate_post("/v1/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert response.status_code == 200
    fresh = response.json["access_token"]
    assert client.simulate_get(f"/v1/customer/{customer.id}",
                               headers=bearer(fresh)).status_code == 200
    assert client.simulate_get(f"/v1/customer/{customer.id}",
                               headers=bearer(tokens.access_token)).status_code == 401
    reused = client.simulate_post("/v1/auth/refresh", json={"refresh_token": tokens.refresh_token})
    assert reused.status_code == 401


@pytest.mark.parametrize("rotations", [1, 3])
def test_a_replayed_refresh_token_ends_the_whole_session_family(client, settings, rotations):
    customer = make_customer(settings)
    stolen = sign_in(settings, customer)
    other_session = sign_in(settings, customer)
    current = stolen.refresh_token
    for _ in range(rotations):
        rotated = client.simulate_post("/v1/auth/refresh", json={"refresh_token": current})
        assert rotated.status_code == 200
        current, access = rotated.json["refresh_token"], rotated.json["access_token"]
    profile = f"/v1/customer/{customer.id}"
    assert client.simulate_get(profile, headers=bearer(access)).status_code == 200
    replayed = client.simulate_post("/v1/auth/refresh",
                                    json={"refresh_token": stolen.refresh_token})
    assert replayed.status_code == 401 and replayed.json["error"]["code"] == "invalid_token"
    assert client.simulate_get(profile, headers=bearer(access)).status_code == 401
    assert client.simulate_post("/v1/auth/refresh",
                                json={"refresh_token": current}).status_code == 401
    assert client.simulate_get(profile, headers=bearer(other_session.access_token)
                               ).status_code == 200       # another sign-in is another family


# -- password recovery and change ---------------------------------------------------------

def test_password_recovery_by_mailed_code_sets_the_new_password_and_ends_sessions(
        client, settings, smtp_sink):
    customer = make_customer(settings)
    old_session = sign_in(settings, customer)
    assert client.simulate_post("/v1/account/password",
                                json={"email": customer.email}).status_code == 200
    # beside the sign-up's confirmation, delivered in either order
    mailed = smtp_sink.wait_for(customer.email, count=2)
    assert [m.subject.endswith("recovery code") for m in mailed].count(True) == 1
    response = client.simulate_patch("/v1/account/password", json={
        "email": customer.email, "code": code_from_outbox(customer.email),
        "password": "brand-new-pass-2"})
    assert response.status_code == 200
    assert client.simulate_get(f"/v1/customer/{customer.id}",
                               headers=bearer(old_session.access_token)).status_code == 401
    assert client.simulate_post("/v1/auth", json={"email": customer.email,
                                                  "password": PASSWORD}).status_code == 401
    assert client.simulate_post("/v1/auth", json={"email": customer.email,
                                                  "password": "brand-new-pass-2"}).status_code == 200


def test_recovery_for_an_unknown_address_answers_alike_and_mails_nothing(client, smtp_sink):
    email = unique_email()
    response = client.simulate_post("/v1/account/password", json={"email": email})
    assert response.status_code == 200
    assert smtp_sink.to(email) == []


def test_a_recovery_code_cannot_be_reused(client, settings):
    customer = make_customer(settings)
    client.simulate_post("/v1/account/password", json={"email": customer.email})
    body = {"email": customer.email, "code": code_from_outbox(customer.email),
            "password": "brand-new-pass-2"}
    assert client.simulate_patch("/v1/account/password", json=body).status_code == 200
    again = client.simulate_patch("/v1/account/password", json={**body, "password": "other-pass-3"})
    assert (again.status_code, again.json) == (422, REFUSED_RECOVERY)


def test_recovery_refuses_a_weak_new_password(client, settings):
    customer = make_customer(settings)
    client.simulate_post("/v1/account/password", json={"email": customer.email})
    response = client.simulate_patch("/v1/account/password", json={
        "email": customer.email, "code": code_from_outbox(customer.email), "password": "weak"})
    assert response.status_code == 422
    assert "password" in response.json["error"]["fields"]


def test_changing_the_password_ends_the_other_sessions_only(client, settings):
    customer = make_customer(settings)
    current, other = sign_in(settings, customer), sign_in(settings, customer)
    response = client.simulate_put("/v1/account/password", headers=bearer(current.access_token),
                                   json={"previous_password": PASSWORD,
                                         "proposed_password": "changed-pass-9"})
    assert response.status_code == 200
    profile = f"/v1/customer/{customer.id}"
    assert client.simulate_get(profile, headers=bearer(current.access_token)).status_code == 200
    assert client.simulate_get(profile, headers=bearer(other.access_token)).status_code == 401
    assert client.simulate_post("/v1/auth", json={"email": customer.email,
                                                  "password": "changed-pass-9"}).status_code == 200


def test_changing_the_password_needs_the_current_one(client, settings):
    customer = make_customer(settings)
    tokens = sign_in(settings, customer)
    response = client.simulate_put("/v1/account/password", headers=bearer(tokens.access_token),
                                   json={"previous_password": "not-it-123",
                                         "proposed_password": "changed-pass-9"})
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["previous_password"]


def test_changing_the_password_needs_a_token(client):
    response = client.simulate_put("/v1/account/password",
                                   json={"previous_password": "a", "proposed_password": "b"})
    assert response.status_code == 401


# -- customers ----------------------------------------------------------------------------

def test_another_organisations_customer_is_not_found(client, settings):
    alice, charlie = make_customer(settings), make_customer(settings)
    tokens = sign_in(settings, charlie)
    response = client.simulate_get(f"/v1/customer/{alice.id}", headers=bearer(tokens.access_token))
    assert response.status_code == 404
