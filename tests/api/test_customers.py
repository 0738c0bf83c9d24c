"""Endpoints 9-14: the customer profile, sign-in address change, feedback, leaving."""
from __future__ import annotations

import re

import pytest

from models import accounts, customers
from models.organisations import Organisation, Team
from tests.factories.accounts import PASSWORD, bearer, code_from_outbox, make_customer, sign_in
from tests.factories.organisations import first_team, join, make_cast, make_service


@pytest.fixture
def cast(settings):
    return make_cast(settings)


def test_the_profile_carries_teams_organisation_and_plan_limits(client, cast):
    Organisation.update(plan="free").execute()
    response = client.simulate_get(f"/v1/customer/{cast.alice.id}", headers=bearer(cast.alice_token))
    assert response.status_code == 200
    profile = response.json
    assert profile["organisation"]["plan"] == "free"
    assert profile["limits"]["monitoring"]["uptime_monitors"] == 20
    assert profile["teams"] == [{"id": str(cast.team.id), "name": cast.team.name, "role": "owner"}]


def test_a_teammates_profile_is_visible_and_an_outsiders_is_not(client, cast):
    assert client.simulate_get(f"/v1/customer/{cast.bob.id}",
                               headers=bearer(cast.alice_token)).status_code == 200
    assert client.simulate_get(f"/v1/customer/{cast.charlie.id}",
                               headers=bearer(cast.alice_token)).status_code == 404


def test_name_and_surname_are_updated(client, cast):
    response = client.simulate_patch("/v1/customer", json={"name": "Alicia"},
                                     headers=bearer(cast.alice_token))
    assert response.status_code == 200
    assert (response.json["name"], response.json["surname"]) == ("Alicia", cast.alice.surname)


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"surname": 3}, {"name": "x" * 101}])
def test_a_bad_profile_update_is_a_422(client, cast, body):
    assert client.simulate_patch("/v1/customer", json=body,
                                 headers=bearer(cast.alice_token)).status_code == 422


def test_the_sign_in_address_changes_only_once_the_new_one_is_confirmed(client, settings, cast,
                                                                        smtp_sink):
    headers = bearer(cast.bob_token)
    response = client.simulate_put("/v1/customer/username", json={"email": "bob.new@example.com"},
                                   headers=headers)
    assert response.status_code == 200
    assert smtp_sink.wait_for("bob.new@example.com")[0].subject.startswith("Confirm your new")
    assert accounts.Customer.get_by_id(cast.bob.id).email == cast.bob.email
    code = code_from_outbox("bob.new@example.com")
    confirmed = client.simulate_patch("/v1/customer/username", json={"code": code}, headers=headers)
    assert confirmed.status_code == 200 and confirmed.json["email"] == "bob.new@example.com"
    assert client.simulate_post("/v1/auth", json={"email": "bob.new@example.com",
                                                  "password": PASSWORD}).status_code == 200
    reused = client.simulate_patch("/v1/customer/username", json={"code": code}, headers=headers)
    assert reused.status_code == 422


def test_address_change_codes_are_limited_per_address_mailed(client, settings, cast):
    limit = int(settings.code_send_rate_limit.split("/")[0])
    change = lambda token, email: client.simulate_put(  # noqa: E731
        "/v1/customer/username", json={"email": email}, headers=bearer(token)).status_code
    assert [change(cast.bob_token, "target@example.com") for _ in range(limit)] == [200] * limit
    assert change(cast.alice_token, "target@example.com") == 429
    assert change(cast.alice_token, "alice.new@example.com") == 200


def test_asking_for_another_accounts_address_answers_alike_and_only_its_owner_is_told(
        client, cast, smtp_sink):
    change = lambda email: client.simulate_put(  # noqa: E731
        "/v1/customer/username", json={"email": email}, headers=bearer(cast.bob_token))
    free, taken = change("bob.new@example.com"), change(cast.charlie.email)
    assert (taken.status_code, taken.json) == (free.status_code, free.json) == (200, free.json)
    notice = smtp_sink.wait_for(cast.charlie.email, count=2)[-1]    # after the sign-up code
    assert "already" in notice.body and not re.search(r"\b\d{6}\b", notice.body)
    assert not accounts.OneTimeCode.select().where(
        accounts.OneTimeCode.target == cast.charlie.email).exists()
    assert accounts.Customer.get_by_id(cast.bob.id).email == cast.bob.email


def test_an_address_taken_before_its_confirmation_is_a_conflict(client, settings, cast):
    headers = bearer(cast.bob_token)
    client.simulate_put("/v1/customer/username", json={"email": "bob.new@example.com"},
                        headers=headers)
    code = code_from_outbox("bob.new@example.com")
    make_customer(settings, email="bob.new@example.com", confirmed=False)
    response = client.simulate_patch("/v1/customer/username", json={"code": code},
                                     headers=headers)
    assert response.status_code == 409 and response.json["error"]["code"] == "email_taken"


def test_feedback_is_stored(client, cast):
    response = client.simulate_post("/v1/customer/feedback", json={"feedback": "Good experience"},
                                    headers=bearer(cast.bob_token))
    assert response.status_code == 201
    stored = customers.Feedback.get_by_id(response.json["id"])
    assert (stored.text, stored.customer_id) == ("Good experience", cast.bob.id)


@pytest.mark.parametrize("body", [{}, {"feedback": ""}, {"feedback": "x" * 5001}])
def test_empty_or_huge_feedback_is_a_422(client, cast, body):
    assert client.simulate_post("/v1/customer/feedback", json=body,
                                headers=bearer(cast.bob_token)).status_code == 422


def test_a_member_deletes_their_account_and_the_reason_is_kept(client, cast):
    response = client.simulate_delete("/v1/customer", json={"reason": "poor-features"},
                                      headers=bearer(cast.bob_token))
    assert response.status_code == 200
    assert accounts.Customer.get_or_none(accounts.Customer.id == cast.bob.id) is None
    kept = customers.AccountDeletion.get(customers.AccountDeletion.customer_id == cast.bob.id)
    assert (kept.reason, kept.organisation_id) == ("poor-features", cast.team.organisation_id)
    assert client.simulate_get(f"/v1/customer/{cast.alice.id}",
                               headers=bearer(cast.bob_token)).status_code == 401


def test_the_last_owner_of_a_team_with_members_cannot_leave(client, cast):
    response = client.simulate_delete("/v1/customer", json={"reason": "leaving"},
                                      headers=bearer(cast.alice_token))
    assert response.status_code == 409
    assert response.json["error"]["code"] == "last_owner"
    assert "owner" in response.json["error"]["message"]
    assert accounts.Customer.get_or_none(accounts.Customer.id == cast.alice.id) is not None


def test_the_only_member_takes_the_organisation_with_them(client, settings, cast):
    make_service(first_team(cast.charlie))
    organisation = cast.charlie.organisation_id
    response = client.simulate_delete("/v1/customer", json={"reason": "done"},
                                      headers=bearer(cast.charlie_token))
    assert response.status_code == 200
    assert Organisation.get_or_none(Organisation.id == organisation) is None
    assert Team.select().where(Team.organisation == organisation).count() == 0


def test_a_deletion_needs_a_reason(client, cast):
    assert client.simulate_delete("/v1/customer", json={},
                                  headers=bearer(cast.bob_token)).status_code == 422
