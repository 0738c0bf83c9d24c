"""Endpoints 15-21 and 33-39: personal and team notification channels, each delivery exercised
against a real server on loopback (SMTP, the SMS provider, a webhook receiver, chat services)."""
from __future__ import annotations

import json
import re

import pytest

from models import channels, outbox
from models.channels import NotificationChannel
from models.organisations import Membership, Organisation
from tests.factories.organisations import make_cast
from tests.factories.accounts import bearer
from tests.polling import wait_until


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="manager")


def personal(cast):
    return f"/v1/customer/{cast.alice.id}", bearer(cast.alice_token)


def team(cast, token=None):
    return f"/v1/team/{cast.team.id}", bearer(token or cast.alice_token)


def create(client, base, headers, type, value):
    return client.simulate_post(f"{base}/notification-channel", json={"type": type, "value": value},
                                headers=headers)


def code_in(text: str) -> str:
    return re.search(r"\b(\d{6})\b", text).group(1)


def verify(client, base, headers, priority, code):
    return client.simulate_patch(f"{base}/notification-channel/verification",
                                 json={"code": code, "priority": priority}, headers=headers)


def sent_on_request() -> int:
    """Messages in the outbox other than the cast's own sign-up codes."""
    return outbox.Delivery.select().where(outbox.Delivery.kind != "code").count()


def listed(client, base, headers, **params):
    return client.simulate_get(f"{base}/notification-channels", params=params,
                               headers=headers).json["data"]


# -- each type, verified over itself ------------------------------------------------------

def test_an_email_channel_is_verified_with_the_code_mailed_to_it(client, cast, smtp_sink):
    base, headers = personal(cast)
    response = create(client, base, headers, "email", "Alerts@Example.com")
    assert response.status_code == 201
    assert (response.json["value"], response.json["priority"], response.json["verified"],
            response.json["status"]) == ("alerts@example.com", 1, False, "unverified")
    code = code_in(smtp_sink.wait_for("alerts@example.com")[0].body)
    verified = verify(client, base, headers, 1, code)
    assert verified.status_code == 200 and verified.json["status"] == "active"


def test_an_sms_channel_gets_its_code_through_the_sms_provider(client, cast, twilio):
    base, headers = personal(cast)
    assert create(client, base, headers, "sms", "+994551234567").status_code == 201
    form = twilio.wait_for("/2010-04-01/")[0].form()
    assert form["To"] == "+994551234567"
    assert verify(client, base, headers, 1, code_in(form["Body"])).status_code == 200


def test_a_webhook_channel_gets_a_signed_post_with_the_code(client, cast, webhook_sink, settings):
    base, headers = team(cast)
    response = create(client, base, headers, "webhook", f"{webhook_sink.url}/hooks/pinghome")
    request = webhook_sink.wait_for("/hooks/pinghome")[0]
    payload = request.json()
    assert payload["type"] == "verification" and payload["channel_id"] == response.json["id"]
    key = bytes.fromhex(response.json["signing_secret"])
    assert request.headers["x-pinghome-signature"] == outbox.signature(key, request.body)
    assert request.headers["x-pinghome-delivery"] == payload["delivery_id"]
    assert verify(client, base, headers, 1, payload["code"]).status_code == 200


@pytest.mark.parametrize("type, value, route", [
    ("slack", "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7",
     "/slack/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"),
    ("discord", "https://discord.com/api/webhooks/417429632418316298/JHZ7lQml277CDHmQKMHI8qBe7bk2ZwO5UKjCiOAF7711o33MyqU344Qpgv7YTpadV_js",
     "/discord/api/webhooks/417429632418316298/"),
    ("telegram", "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/-1001234567",
     "/telegram/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/sendMessage"),
    ("msteams", "{chat}/workflows/643e69f83c8944438d68119179a10a64/triggers/manual/paths/invoke"
                "?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=KODuebWbDG",
     "/workflows/643e69f83c8944438d68119179a10a64/triggers/manual/paths/invoke"),
])
def test_a_chat_channel_gets_its_code_as_a_message_through_apprise(client, cast, chat_sink,
                                                                   type, value, route):
    base, headers = team(cast)
    response = create(client, base, headers, type, value.format(chat=chat_sink.url))
    assert response.status_code == 201, response.json
    request = chat_sink.wait_for(route)[0]
    assert verify(client, base, headers, 1, code_in(request.body.decode())).status_code == 200


@pytest.mark.parametrize("type, value", [
    ("email", "nobody"), ("sms", "0551234567"), ("sms", "+1 555"), ("webhook", "ftp://x/y"),
    ("webhook", "not a url"), ("slack", "https://example.com/services/a/b/c"),
    ("discord", "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"),
    ("telegram", "just-a-token"), ("msteams", "https://example.com/workflows"),
])
def test_a_value_that_does_not_fit_its_type_is_a_422(client, cast, type, value):
    base, headers = personal(cast)
    response = create(client, base, headers, type, value)
    assert response.status_code == 422
    assert list(response.json["error"]["fields"]) == ["value"]


@pytest.mark.parametrize("body, field", [({"value": "a@example.com"}, "type"),
                                         ({"type": "pager", "value": "x"}, "type"),
                                         ({"type": "email"}, "value"),
                                         ({"type": "email", "value": 5}, "value")])
def test_a_create_is_validated_at_the_edge(client, cast, body, field):
    base, headers = personal(cast)
    response = client.simulate_post(f"{base}/notification-channel", json=body, headers=headers)
    assert response.status_code == 422 and field in response.json["error"]["fields"]


def test_a_duplicate_channel_is_a_conflict(client, cast):
    base, headers = personal(cast)
    create(client, base, headers, "email", "a@example.com")
    assert create(client, base, headers, "email", "A@example.com").status_code == 409


# -- verification -------------------------------------------------------------------------

def test_a_wrong_code_is_refused_and_a_few_kill_it(client, cast, smtp_sink, settings):
    base, headers = personal(cast)
    create(client, base, headers, "email", "a@example.com")
    code = code_in(smtp_sink.wait_for("a@example.com")[0].body)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(settings.code_max_attempts):
        assert verify(client, base, headers, 1, wrong).status_code == 422
    assert verify(client, base, headers, 1, code).status_code == 429


def test_a_changed_value_must_be_verified_again(client, cast, smtp_sink):
    base, headers = personal(cast)
    create(client, base, headers, "email", "a@example.com")
    verify(client, base, headers, 1, code_in(smtp_sink.wait_for("a@example.com")[0].body))
    response = client.simulate_put(f"{base}/notification-channel",
                                   json={"value": "b@example.com", "priority": 1}, headers=headers)
    assert response.status_code == 200 and response.json["status"] == "unverified"
    code = code_in(smtp_sink.wait_for("b@example.com")[0].body)
    assert verify(client, base, headers, 1, code).json["value"] == "b@example.com"


def test_only_verified_and_enabled_channels_receive_alerts(client, cast, smtp_sink):
    base, headers = personal(cast)
    for address in ("one@example.com", "two@example.com", "three@example.com"):
        create(client, base, headers, "email", address)
    verify(client, base, headers, 1, code_in(smtp_sink.wait_for("one@example.com")[0].body))
    verify(client, base, headers, 3, code_in(smtp_sink.wait_for("three@example.com")[0].body))
    client.simulate_put(f"{base}/notification-channel/enabled", json={"enabled": False,
                                                                      "priority": 3},
                        headers=headers)
    owner = channels.owner_for(_caller(cast.alice), "customer", cast.alice.id)
    assert [c.value for c in channels.deliverable_channels(owner)] == ["one@example.com"]
    statuses = [c["status"] for c in listed(client, base, headers)]
    assert statuses == ["active", "unverified", "disabled"]


def _caller(customer):
    from tests.factories.organisations import caller_of
    return caller_of(customer)


# -- order, filters, deletion -------------------------------------------------------------

@pytest.mark.parametrize("query", ["priority=2,3", "priority=2&priority=3"])
def test_deleting_by_priority_keeps_the_order_dense(client, cast, query):
    base, headers = personal(cast)
    for number in range(1, 6):
        create(client, base, headers, "email", f"n{number}@example.com")
    response = client.simulate_delete(f"{base}/notification-channel", query_string=query,
                                      headers=headers)
    assert response.status_code == 200
    remaining = [(c["priority"], c["value"]) for c in listed(client, base, headers)]
    assert remaining == [(1, "n1@example.com"), (2, "n4@example.com"), (3, "n5@example.com")]
    assert create(client, base, headers, "email", "n6@example.com").json["priority"] == 4


@pytest.mark.parametrize("query, status", [("", 422), ("priority=x", 422), ("priority=0", 422),
                                           ("priority=9", 404)])
def test_a_bad_deletion_is_refused(client, cast, query, status):
    base, headers = personal(cast)
    create(client, base, headers, "email", "a@example.com")
    response = client.simulate_delete(f"{base}/notification-channel", query_string=query,
                                      headers=headers)
    assert response.status_code == status


def test_include_and_exclude_types_filter_the_list(client, cast, webhook_sink):
    base, headers = team(cast)
    create(client, base, headers, "email", "a@example.com")
    create(client, base, headers, "sms", "+994551234567")
    create(client, base, headers, "webhook", f"{webhook_sink.url}/x")
    types = lambda **p: [c["type"] for c in listed(client, base, headers, **p)]  # noqa: E731
    assert types(include_types="sms,email") == ["email", "sms"]
    assert types(exclude_types="webhook,push-notification") == ["email", "sms"]
    assert types(include_types="email,webhook", exclude_types="email") == ["webhook"]


def test_the_plan_limits_channels_per_owner(client, cast):
    Organisation.update(plan="free").execute()
    base, headers = personal(cast)
    statuses = [create(client, base, headers, "email", f"c{n}@example.com").status_code
                for n in range(6)]
    assert statuses == [201] * 5 + [403]


# -- test messages and the enabled switch -------------------------------------------------

def test_a_test_message_really_goes_out_and_is_reported(client, cast, webhook_sink):
    base, headers = team(cast)
    create(client, base, headers, "webhook", f"{webhook_sink.url}/t")
    webhook_sink.wait_for("/t")
    response = client.simulate_post(f"{base}/notification-channel/test", json={"priority": 1},
                                    headers=headers)
    assert response.status_code == 200
    payloads = [r.json() for r in webhook_sink.wait_for("/t", count=2)]
    assert payloads[-1]["type"] == "test"
    wait_until(lambda: listed(client, base, headers)[0]["last_delivery"]["status"] == "sent")


def test_messages_to_one_channel_are_limited_per_hour_even_across_a_delete(client, cast,
                                                                           settings):
    limit = int(settings.channel_send_rate_limit.split("/")[0])
    base, headers = personal(cast)
    post = lambda path, body: client.simulate_post(  # noqa: E731
        f"{base}/notification-channel{path}", json=body, headers=headers)
    assert create(client, base, headers, "sms", "+994551234567").status_code == 201
    tests = [post("/test", {"priority": 1}).status_code for _ in range(limit - 1)]
    assert tests == [200] * (limit - 1)
    refused = post("/test", {"priority": 1})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    resend = client.simulate_put(f"{base}/notification-channel", headers=headers,
                                 json={"value": "+994551234567", "priority": 1})
    assert resend.status_code == 429
    assert sent_on_request() == limit
    client.simulate_delete(f"{base}/notification-channel", query_string="priority=1",
                           headers=headers)
    assert create(client, base, headers, "sms", "+994551234567").status_code == 429
    assert create(client, base, headers, "sms", "+994557654321").status_code == 201


def test_messages_sent_on_request_are_limited_per_organisation(client, cast, settings):
    limit = int(settings.organisation_send_rate_limit.split("/")[0])
    alice, (team_base, bob) = personal(cast), team(cast, cast.bob_token)
    statuses = [create(client, *(alice if n % 2 else (team_base, bob)), "email",
                       f"c{n}@example.com").status_code for n in range(limit)]
    assert statuses == [201] * limit
    refused = create(client, *alice, "email", "one-more@example.com")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert NotificationChannel.select().count() == limit
    assert client.simulate_post(f"{team_base}/notification-channel/test", json={"priority": 1},
                                headers=bob).status_code == 429
    invitation = client.simulate_post(f"/v1/team/{cast.team.id}/invitation",
                                      json={"channel_value": "new@example.com"},
                                      headers=bearer(cast.alice_token))
    assert invitation.status_code == 429
    assert sent_on_request() == limit


def test_a_failing_peer_is_retried_and_its_error_shown(client, cast, webhook_sink):
    webhook_sink.answers["/broken"] = (500, b"down")
    base, headers = team(cast)
    create(client, base, headers, "webhook", f"{webhook_sink.url}/broken")
    wait_until(lambda: (listed(client, base, headers)[0]["last_delivery"] or {}).get("error"))
    assert "500" in listed(client, base, headers)[0]["last_delivery"]["error"]
    webhook_sink.answers["/broken"] = (200, b"{}")
    wait_until(lambda: listed(client, base, headers)[0]["last_delivery"]["status"] == "sent",
               timeout=60)


def test_the_enabled_switch_is_validated(client, cast):
    base, headers = personal(cast)
    create(client, base, headers, "email", "a@example.com")
    for body in ({"enabled": "yes", "priority": 1}, {"priority": 1}, {"enabled": True}):
        response = client.simulate_put(f"{base}/notification-channel/enabled", json=body,
                                       headers=headers)
        assert response.status_code == 422


# -- who may --------------------------------------------------------------------------------

def test_team_channels_are_read_by_users_and_changed_by_managers(client, settings):
    cast = make_cast(settings, bob_role="user")
    base, bob = team(cast, cast.bob_token)
    assert client.simulate_get(f"{base}/notification-channels", headers=bob).status_code == 200
    assert create(client, base, bob, "email", "a@example.com").status_code == 403
    from models.organisations import Membership
    Membership.update(role="manager").where(Membership.customer == cast.bob.id).execute()
    assert create(client, base, bob, "email", "a@example.com").status_code == 201


SLACK = "https://hooks.slack.com/services/T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7"


def test_a_teams_users_see_no_signing_secret_and_no_whole_webhook_or_chat_value(client, settings,
                                                                              webhook_sink):
    cast = make_cast(settings, bob_role="user")
    base, alice = team(cast)
    create(client, base, alice, "webhook", f"{webhook_sink.url}/hooks/s3cr3t?key=k3y")
    create(client, base, alice, "slack", SLACK)
    create(client, base, alice, "email", "ops@example.com")
    seen = listed(client, base, bearer(cast.bob_token))
    assert [c["value"] for c in seen] == ["http://127.0.0.1/…", "https://hooks.slack.com/…",
                                          "ops@example.com"]
    assert "signing_secret" not in seen[0]
    owned = listed(client, base, alice)
    assert [c["value"] for c in owned][:2] == [f"{webhook_sink.url}/hooks/s3cr3t?key=k3y", SLACK]
    assert owned[0]["signing_secret"] == outbox.signing_key(settings, owned[0]["id"]).hex()
    Membership.update(role="manager").where(Membership.customer == cast.bob.id).execute()
    secrets = lambda found: [(c["value"], c.get("signing_secret")) for c in found]  # noqa: E731
    assert secrets(listed(client, base, bearer(cast.bob_token))) == secrets(owned)


def test_another_customers_personal_channels_are_not_found(client, cast):
    base = f"/v1/customer/{cast.alice.id}"
    response = client.simulate_get(f"{base}/notification-channels", headers=bearer(cast.bob_token))
    assert response.status_code == 404


def test_webhooks_to_private_addresses_are_refused_unless_allowed(settings, webhook_sink):
    from workers import notifiers
    message = outbox.Message(delivery_id="d1", type="webhook",
                             address=f"{webhook_sink.url}/private", subject="s", body="b",
                             payload={"type": "test"}, signing_key=None)
    with pytest.raises(outbox.TransportError, match="may not reach"):
        notifiers.send(message, settings=settings.replace(allow_private_targets=False))
    assert notifiers.send(message, settings=settings) == "sent"
    assert json.loads(webhook_sink.received("/private")[0].body)["delivery_id"] == "d1"
