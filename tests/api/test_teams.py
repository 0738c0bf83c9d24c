"""Endpoints 22-32: teams, members, roles, invitations, and acting on an invitation."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from models import clock
from models.invitations import Invitation
from models.organisations import Membership, Organisation, Team
from tests.factories.accounts import bearer, make_customer, sign_in, unique_email
from tests.factories.organisations import first_team, join, make_cast, make_service, make_team


@pytest.fixture
def cast(settings):
    return make_cast(settings)


# -- teams --------------------------------------------------------------------------------

def test_a_created_team_is_owned_by_its_creator_and_listed(client, cast):
    response = client.simulate_post("/v1/team", json={"name": "Ops"}, headers=bearer(cast.alice_token))
    assert response.status_code == 201
    assert (response.json["name"], response.json["role"], response.json["member_count"]) == ("Ops", "owner", 1)
    listed = client.simulate_get("/v1/teams", headers=bearer(cast.alice_token)).json
    assert listed["total"] == 2
    by_name = {t["name"]: t for t in listed["data"]}
    assert by_name["Ops"]["member_count"] == 1 and by_name["My team"]["member_count"] == 2
    assert set(by_name["Ops"]) >= {"id", "name", "member_count", "created_at"}


@pytest.mark.parametrize("role", ["user", "manager"])
def test_only_an_owner_of_one_of_the_organisations_teams_creates_a_team(client, settings, role):
    cast = make_cast(settings, bob_role=role)
    refused = client.simulate_post("/v1/team", json={"name": "Mine"},
                                   headers=bearer(cast.bob_token))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "role_required"
    assert Team.select().where(Team.organisation == cast.team.organisation_id).count() == 1
    join(make_team(cast.alice), cast.bob, "owner")
    assert client.simulate_post("/v1/team", json={"name": "Mine"},
                                headers=bearer(cast.bob_token)).status_code == 201


def test_teams_are_paged(client, cast):
    for number in range(3):
        make_team(cast.alice, name=f"T{number}")
    page = client.simulate_get("/v1/teams", params={"page": 2, "limit": 2},
                               headers=bearer(cast.alice_token)).json
    assert (page["page"], page["limit"], page["total"], len(page["data"])) == (2, 2, 4, 2)


def test_the_plan_limits_the_number_of_teams(client, settings, cast):
    Organisation.update(plan="free").execute()
    statuses = [client.simulate_post("/v1/team", json={"name": f"T{n}"},
                                     headers=bearer(cast.alice_token)).status_code
                for n in range(3)]
    assert statuses == [201, 403, 403]   # the free plan allows 2 teams
    refused = client.simulate_post("/v1/team", json={"name": "x"}, headers=bearer(cast.alice_token))
    assert refused.json["error"]["code"] == "plan_limit_reached"


def test_a_new_organisation_is_on_the_self_hosted_plan_which_limits_nothing(client, cast):
    headers = bearer(cast.alice_token)
    profile = client.simulate_get(f"/v1/customer/{cast.alice.id}", headers=headers).json
    assert (profile["organisation"]["plan"], profile["organisation"]["plan_version"]) == (
        "self-hosted", "v1")
    limits = client.simulate_get("/v1/plan/self-hosted/v1/limits", headers=headers).json
    assert all(limit["unlimited"] for module in limits["modules"] for limit in module["limits"])
    assert limits["over"] == []
    statuses = [client.simulate_post("/v1/team", json={"name": f"T{n}"},
                                     headers=headers).status_code for n in range(3)]
    assert statuses == [201, 201, 201]       # the free plan would refuse the second
    service = make_service(cast.team)
    monitor = client.simulate_post("/v1/resource", headers=headers, json={
        "name": "Fast", "type": "http", "url": "https://example.com/", "interval": 10,
        "timeout": 5, "service_id": str(service.id)})
    assert monitor.status_code == 201, monitor.json
    assert monitor.json["interval"] == 10


def test_managers_rename_teams_and_users_cannot(client, settings):
    cast = make_cast(settings, bob_role="manager")
    renamed = client.simulate_put(f"/v1/team/{cast.team.id}", json={"name": "Renamed"},
                                  headers=bearer(cast.bob_token))
    assert renamed.status_code == 200 and renamed.json["name"] == "Renamed"
    Membership.update(role="user").where(Membership.customer == cast.bob.id).execute()
    refused = client.simulate_put(f"/v1/team/{cast.team.id}", json={"name": "Again"},
                                  headers=bearer(cast.bob_token))
    assert refused.status_code == 403 and refused.json["error"]["code"] == "role_required"


def test_a_team_that_owns_services_is_not_deleted(client, cast):
    extra = make_team(cast.alice)
    make_service(extra)
    response = client.simulate_delete(f"/v1/team/{extra.id}", headers=bearer(cast.alice_token))
    assert response.status_code == 409 and response.json["error"]["code"] == "team_not_empty"
    assert Team.get_or_none(Team.id == extra.id) is not None


def test_an_empty_team_is_deleted_with_its_memberships(client, cast):
    extra = make_team(cast.alice)
    join(extra, cast.bob)
    response = client.simulate_delete(f"/v1/team/{extra.id}", headers=bearer(cast.alice_token))
    assert response.status_code == 200
    assert Membership.select().where(Membership.team == extra.id).count() == 0


def test_the_last_team_of_an_organisation_stays(client, cast):
    response = client.simulate_delete(f"/v1/team/{cast.team.id}", headers=bearer(cast.alice_token))
    assert response.status_code == 409 and response.json["error"]["code"] == "last_team"


# -- members ------------------------------------------------------------------------------

def test_members_are_listed_with_their_roles(client, cast):
    members = client.simulate_get(f"/v1/team/{cast.team.id}/members",
                                  headers=bearer(cast.bob_token)).json["data"]
    assert {(m["email"], m["role"]) for m in members} == {(cast.alice.email, "owner"),
                                                           (cast.bob.email, "user")}
    assert set(members[0]) >= {"customer_id", "email", "name", "role", "joined_at"}


def test_an_owner_changes_roles(client, cast):
    response = client.simulate_patch(f"/v1/team/{cast.team.id}/member/{cast.bob.id}",
                                     json={"role": "manager"}, headers=bearer(cast.alice_token))
    assert response.status_code == 200 and response.json["role"] == "manager"


@pytest.mark.parametrize("role", ["user", "manager"])
def test_only_owners_manage_members(client, settings, role):
    cast = make_cast(settings, bob_role=role)
    headers = bearer(cast.bob_token)
    path = f"/v1/team/{cast.team.id}"
    assert client.simulate_patch(f"{path}/member/{cast.alice.id}", json={"role": "user"},
                                 headers=headers).status_code == 403
    assert client.simulate_delete(f"{path}/member/{cast.alice.id}", headers=headers).status_code == 403
    assert client.simulate_post(f"{path}/invitation", json={"channel_value": unique_email()},
                                headers=headers).status_code == 403
    assert client.simulate_delete(path, headers=headers).status_code == 403


def test_the_last_owner_cannot_be_demoted_removed_or_moved(client, cast):
    path = f"/v1/team/{cast.team.id}/member/{cast.alice.id}"
    headers = bearer(cast.alice_token)
    demoted = client.simulate_patch(path, json={"role": "manager"}, headers=headers)
    assert demoted.status_code == 409 and demoted.json["error"]["code"] == "last_owner"
    assert client.simulate_delete(path, headers=headers).status_code == 409
    other = make_team(cast.alice)
    moved = client.simulate_patch(path, json={"new_team_id": str(other.id)}, headers=headers)
    assert moved.status_code == 409


def test_with_a_second_owner_the_first_may_step_down(client, cast):
    Membership.update(role="owner").where(Membership.customer == cast.bob.id).execute()
    response = client.simulate_patch(f"/v1/team/{cast.team.id}/member/{cast.alice.id}",
                                     json={"role": "user"}, headers=bearer(cast.alice_token))
    assert response.status_code == 200


def test_an_owner_removes_a_member_and_a_member_may_leave(client, settings, cast):
    carol = make_customer(settings)
    join(cast.team, carol)
    assert client.simulate_delete(f"/v1/team/{cast.team.id}/member/{carol.id}",
                                  headers=bearer(cast.alice_token)).status_code == 200
    assert client.simulate_delete(f"/v1/team/{cast.team.id}/member/{cast.bob.id}",
                                  headers=bearer(cast.bob_token)).status_code == 200
    assert [m.customer_id for m in Membership.select().where(Membership.team == cast.team)] == [cast.alice.id]


def test_a_member_moves_to_another_team_keeping_or_changing_the_role(client, cast):
    other = make_team(cast.alice)
    response = client.simulate_patch(f"/v1/team/{cast.team.id}/member/{cast.bob.id}",
                                     json={"new_team_id": str(other.id), "role": "manager"},
                                     headers=bearer(cast.alice_token))
    assert response.status_code == 200
    assert (response.json["team_id"], response.json["role"]) == (str(other.id), "manager")
    assert not Membership.select().where(Membership.team == cast.team,
                                         Membership.customer == cast.bob.id).exists()


def test_a_member_cannot_be_moved_to_another_organisations_team(client, cast):
    foreign = first_team(cast.charlie)
    response = client.simulate_patch(f"/v1/team/{cast.team.id}/member/{cast.bob.id}",
                                     json={"new_team_id": str(foreign.id)},
                                     headers=bearer(cast.alice_token))
    assert response.status_code == 404


@pytest.mark.parametrize("body, field", [({}, "body"), ({"role": "admin"}, "role"),
                                         ({"new_team_id": "nope"}, "new_team_id")])
def test_a_member_update_is_validated(client, cast, body, field):
    response = client.simulate_patch(f"/v1/team/{cast.team.id}/member/{cast.bob.id}", json=body,
                                     headers=bearer(cast.alice_token))
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


# -- invitations --------------------------------------------------------------------------

def invite(client, cast, value=None, **extra):
    body = {"channel_value": value or unique_email("invitee"), "channel_type": "email", **extra}
    return client.simulate_post(f"/v1/team/{cast.team.id}/invitation", json=body,
                                headers=bearer(cast.alice_token)), body


INVITATION_LINK = re.compile(r"/v1/invitation/([A-Za-z0-9_-]+)/acceptance")


def token_in(text: str) -> str:
    return INVITATION_LINK.search(text).group(1)


def invitation_token(smtp_sink, address: str) -> str:
    """The invitation's token; the sign-up mail to the same address may arrive after it."""
    mails = smtp_sink.wait_for(address, count=2)
    return token_in(next(mail.body for mail in reversed(mails) if INVITATION_LINK.search(mail.body)))


def test_an_email_invitation_is_mailed_with_a_link_and_listed(client, cast, smtp_sink):
    response, body = invite(client, cast, role="manager")
    assert response.status_code == 201
    assert (response.json["status"], response.json["type"], response.json["role"]) == (
        "pending", "new_account", "manager")
    mail = smtp_sink.wait_for(body["channel_value"])[0]
    assert "Alice" in mail.subject and token_in(mail.body)
    listed = client.simulate_get(f"/v1/team/{cast.team.id}/invitations",
                                 headers=bearer(cast.bob_token)).json["data"]
    assert [(i["channel_value"], i["channel_type"], i["sender"]["email"], i["status"])
            for i in listed] == [(body["channel_value"], "email", cast.alice.email, "pending")]


def test_inviting_tells_no_one_whether_an_outside_address_has_an_account(client, settings,
                                                                         cast):
    colleague = make_customer(settings)
    join(make_team(cast.alice), colleague)               # in Alice's organisation, not her team
    types = {who: invite(client, cast, value=email)[0].json["type"]
             for who, email in (("nobody", unique_email()), ("outsider", cast.charlie.email),
                                ("colleague", colleague.email))}
    assert types == {"nobody": "new_account", "outsider": "new_account",
                     "colleague": "existing_account"}


def test_an_sms_invitation_goes_through_the_sms_provider(client, cast, twilio, settings):
    response, _ = invite(client, cast, value="+994 55 123 45 67", channel_type="sms")
    assert response.status_code == 201 and response.json["channel_value"] == "+994551234567"
    request = twilio.wait_for("/2010-04-01/Accounts/AC0123456789/Messages.json")[0]
    form = request.form()
    assert (form["To"], form["From"]) == ("+994551234567", settings.twilio_from)
    assert token_in(form["Body"])
    assert request.headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize("body, field", [
    ({"channel_value": "not-an-email"}, "value"),
    ({"channel_value": "12345", "channel_type": "sms"}, "value"),
    ({"channel_value": "a@example.com", "channel_type": "pigeon"}, "channel_type"),
    ({"channel_value": "a@example.com", "role": "boss"}, "role"),
])
def test_an_invitation_is_validated(client, cast, body, field):
    response = client.simulate_post(f"/v1/team/{cast.team.id}/invitation", json=body,
                                     headers=bearer(cast.alice_token))
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_members_and_pending_invitees_cannot_be_invited_again(client, cast):
    assert invite(client, cast, value=cast.bob.email)[0].status_code == 409
    _, body = invite(client, cast)
    again, _ = invite(client, cast, value=body["channel_value"])
    assert again.status_code == 409 and again.json["error"]["code"] == "already_invited"


def test_accepting_joins_the_team_with_the_invited_role(client, settings, cast, smtp_sink):
    newcomer = make_customer(settings)
    invite(client, cast, value=newcomer.email, role="manager")
    token = invitation_token(smtp_sink, newcomer.email)
    headers = bearer(sign_in(settings, newcomer).access_token)
    assert client.simulate_get(f"/v1/invitation/{token}").json["team"]["name"] == cast.team.name
    response = client.simulate_post(f"/v1/invitation/{token}/acceptance", headers=headers)
    assert response.status_code == 200 and response.json["role"] == "manager"
    teams = client.simulate_get("/v1/teams", headers=headers).json["data"]
    assert cast.team.name in [t["name"] for t in teams]
    again = client.simulate_post(f"/v1/invitation/{token}/acceptance", headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "invitation_accepted"
    listed = client.simulate_get(f"/v1/team/{cast.team.id}/invitations",
                                 headers=bearer(cast.alice_token)).json["data"]
    assert listed[0]["status"] == "accepted"


def test_an_invitation_for_another_address_cannot_be_accepted(client, settings, cast, smtp_sink):
    _, body = invite(client, cast)
    token = token_in(smtp_sink.wait_for(body["channel_value"])[0].body)
    response = client.simulate_post(f"/v1/invitation/{token}/acceptance",
                                    headers=bearer(cast.charlie_token))
    assert response.status_code == 403


def test_declining_closes_the_invitation(client, settings, cast, smtp_sink):
    newcomer = make_customer(settings)
    invite(client, cast, value=newcomer.email)
    token = invitation_token(smtp_sink, newcomer.email)
    headers = bearer(sign_in(settings, newcomer).access_token)
    assert client.simulate_post(f"/v1/invitation/{token}/decline", headers=headers).status_code == 200
    assert client.simulate_post(f"/v1/invitation/{token}/acceptance", headers=headers).status_code == 409
    assert Invitation.get().status == "declined"


def test_an_expired_invitation_is_listed_expired_and_refused(client, settings, cast, smtp_sink):
    newcomer = make_customer(settings)
    invite(client, cast, value=newcomer.email)
    token = invitation_token(smtp_sink, newcomer.email)
    Invitation.update(expires_at=clock.now() - dt.timedelta(seconds=1)).execute()
    listed = client.simulate_get(f"/v1/team/{cast.team.id}/invitations",
                                 headers=bearer(cast.alice_token)).json["data"]
    assert listed[0]["status"] == "expired"
    response = client.simulate_post(f"/v1/invitation/{token}/acceptance",
                                    headers=bearer(sign_in(settings, newcomer).access_token))
    assert response.status_code == 409 and response.json["error"]["code"] == "invitation_expired"
    assert invite(client, cast, value=newcomer.email)[0].status_code == 201   # invited anew


def test_accepting_moves_a_lone_account_into_the_inviting_organisation(client, settings, cast,
                                                                       smtp_sink):
    newcomer = make_customer(settings)   # signed up alone: an organisation of its own
    invite(client, cast, value=newcomer.email)
    token = invitation_token(smtp_sink, newcomer.email)
    old_team = first_team(newcomer)
    client.simulate_post(f"/v1/invitation/{token}/acceptance",
                         headers=bearer(sign_in(settings, newcomer).access_token))
    profile = client.simulate_get(f"/v1/customer/{newcomer.id}", headers=bearer(cast.alice_token))
    assert profile.status_code == 200
    assert profile.json["organisation_id"] == str(cast.team.organisation_id)
    assert Team.get_or_none(Team.id == old_team.id) is None


def test_an_account_with_its_own_members_cannot_switch_organisation(client, settings, cast,
                                                                    smtp_sink):
    join(first_team(cast.charlie), make_customer(settings))
    invite(client, cast, value=cast.charlie.email)
    token = invitation_token(smtp_sink, cast.charlie.email)
    response = client.simulate_post(f"/v1/invitation/{token}/acceptance",
                                    headers=bearer(cast.charlie_token))
    assert response.status_code == 409 and response.json["error"]["code"] == "other_organisation"


def test_a_reminder_resends_with_a_fresh_link_and_is_rate_limited(client, cast, smtp_sink):
    _, body = invite(client, cast)
    first = token_in(smtp_sink.wait_for(body["channel_value"])[0].body)
    path = f"/v1/team/{cast.team.id}/invitation/reminder"
    too_soon = client.simulate_post(path, json={"channel_value": body["channel_value"]},
                                    headers=bearer(cast.alice_token))
    assert too_soon.status_code == 429 and int(too_soon.headers["Retry-After"]) > 0
    Invitation.update(last_sent_at=clock.now() - dt.timedelta(hours=1)).execute()
    response = client.simulate_post(path, json={"channel_value": body["channel_value"]},
                                    headers=bearer(cast.alice_token))
    assert response.status_code == 200 and response.json["reminders_sent"] == 1
    second = token_in(smtp_sink.wait_for(body["channel_value"], count=2)[-1].body)
    assert second != first
    assert client.simulate_get(f"/v1/invitation/{first}").status_code == 404


def test_invitations_to_one_address_are_limited_per_hour_deletions_included(client, cast,
                                                                             settings, smtp_sink):
    limit = int(settings.channel_send_rate_limit.split("/")[0])
    address, path = unique_email("invitee"), f"/v1/team/{cast.team.id}/invitation"
    statuses = []
    for _ in range(limit + 1):
        statuses.append(invite(client, cast, value=address)[0].status_code)
        client.simulate_delete(path, json={"channel_value": address},
                               headers=bearer(cast.alice_token))
    assert statuses == [201] * limit + [429]
    assert len(smtp_sink.wait_for(address, count=limit)) == limit
    assert invite(client, cast)[0].status_code == 201      # another address may be invited


def test_an_invitation_is_deleted_by_its_address(client, cast):
    _, body = invite(client, cast)
    path = f"/v1/team/{cast.team.id}/invitation"
    assert client.simulate_delete(path, json={"channel_value": body["channel_value"]},
                                  headers=bearer(cast.alice_token)).status_code == 200
    assert client.simulate_delete(path, json={"channel_value": body["channel_value"]},
                                  headers=bearer(cast.alice_token)).status_code == 404
    assert Invitation.select().count() == 0


def test_invitations_count_against_the_member_limit(client, cast):
    Organisation.update(plan="free").execute()
    statuses = [invite(client, cast)[0].status_code for _ in range(2)]
    assert statuses == [201, 403]   # free plan: 3 members; Alice and Bob plus one invitation

