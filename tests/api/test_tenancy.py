"""One organisation never sees or touches another's data: every endpoint of endpoints 9-43 that
names an object, called with an outsider's token on the first organisation's objects, answers
404 and changes nothing. And what `user` and `manager` may not do answers 403."""
from __future__ import annotations

import pytest

from models import clock, organisations
from models.channels import NotificationChannel
from models.invitations import Invitation
from models.organisations import Membership, Team
from models.services import Service
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast, make_service, make_team


@pytest.fixture
def world(settings, client):
    """Alice's organisation with one of everything, Bob a `user` in her team, Charlie outside."""
    cast = make_cast(settings, bob_role="user")
    second = make_team(cast.alice)
    service = make_service(cast.team)
    headers = bearer(cast.alice_token)
    for base in (f"/v1/customer/{cast.alice.id}", f"/v1/team/{cast.team.id}"):
        assert client.simulate_post(f"{base}/notification-channel", headers=headers,
                                    json={"type": "email", "value": "ops@example.com"}
                                    ).status_code == 201
    assert client.simulate_post(f"/v1/team/{cast.team.id}/invitation", headers=headers,
                                json={"channel_value": "new@example.com"}).status_code == 201
    return cast, second, service


def snapshot():
    return {model.__name__: sorted(str(row) for row in model.select().tuples())
            for model in (Team, Membership, Service, NotificationChannel, Invitation)}


def object_endpoints(cast, second, service):
    me, team, member = cast.alice.id, cast.team.id, cast.bob.id
    personal, team_base = f"/v1/customer/{me}", f"/v1/team/{team}"
    channel_calls = lambda base: [  # noqa: E731
        ("POST", f"{base}/notification-channel", {"type": "email", "value": "x@example.com"}, None),
        ("GET", f"{base}/notification-channels", None, None),
        ("PUT", f"{base}/notification-channel", {"value": "y@example.com", "priority": 1}, None),
        ("PATCH", f"{base}/notification-channel/verification", {"code": "123456", "priority": 1},
         None),
        ("DELETE", f"{base}/notification-channel", None, "priority=1"),
        ("POST", f"{base}/notification-channel/test", {"priority": 1}, None),
        ("PUT", f"{base}/notification-channel/enabled", {"enabled": False, "priority": 1}, None),
    ]
    return [
        ("GET", f"/v1/customer/{me}", None, None),
        *channel_calls(personal),
        ("PUT", f"/v1/team/{team}", {"name": "Mine now"}, None),
        ("DELETE", f"/v1/team/{second.id}", None, None),
        ("GET", f"{team_base}/invitations", None, None),
        ("POST", f"{team_base}/invitation", {"channel_value": "spy@example.com"}, None),
        ("DELETE", f"{team_base}/invitation", {"channel_value": "new@example.com"}, None),
        ("GET", f"{team_base}/members", None, None),
        ("DELETE", f"{team_base}/member/{member}", None, None),
        ("PATCH", f"{team_base}/member/{member}", {"role": "owner"}, None),
        ("POST", f"{team_base}/invitation/reminder", {"channel_value": "new@example.com"}, None),
        *channel_calls(team_base),
        ("GET", f"{team_base}/services", None, None),
        ("POST", "/v1/service", {"name": "Mine", "team_id": str(team)}, None),
        ("PUT", f"/v1/service/{service.id}", {"name": "Mine"}, None),
        ("DELETE", f"/v1/service/{service.id}", None, None),
        ("GET", f"/v1/team-service/{service.id}", None, None),
    ]


def test_an_outsider_finds_none_of_another_organisations_objects(client, world):
    cast, second, service = world
    before = snapshot()
    for method, path, body, query in object_endpoints(cast, second, service):
        response = client.simulate_request(method, path, json=body, query_string=query,
                                           headers=bearer(cast.charlie_token))
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert response.json["error"]["code"] == "not_found"
    assert snapshot() == before


def test_an_outsider_cannot_move_a_member_into_their_team(client, world):
    cast, _, _ = world
    own_team = organisations.teams_of(cast.charlie)[0][0]
    response = client.simulate_patch(f"/v1/team/{own_team.id}/member/{cast.bob.id}",
                                     json={"new_team_id": str(own_team.id)},
                                     headers=bearer(cast.charlie_token))
    assert response.status_code == 404


def test_an_outsiders_lists_show_nothing_of_the_organisation(client, world):
    cast, _, _ = world
    teams = client.simulate_get("/v1/teams", headers=bearer(cast.charlie_token)).json["data"]
    assert [t["name"] for t in teams] == ["My team"]
    assert teams[0]["id"] != str(cast.team.id)


USER_MAY_NOT = [
    ("POST", "/v1/team", {"name": "x"}, None),
    ("PUT", "/v1/team/{team}", {"name": "x"}, None),
    ("DELETE", "/v1/team/{second}", None, None),
    ("POST", "/v1/team/{team}/invitation", {"channel_value": "z@example.com"}, None),
    ("DELETE", "/v1/team/{team}/invitation", {"channel_value": "new@example.com"}, None),
    ("POST", "/v1/team/{team}/invitation/reminder", {"channel_value": "new@example.com"}, None),
    ("DELETE", "/v1/team/{team}/member/{alice}", None, None),
    ("PATCH", "/v1/team/{team}/member/{alice}", {"role": "user"}, None),
    ("POST", "/v1/team/{team}/notification-channel", {"type": "email", "value": "q@example.com"},
     None),
    ("PUT", "/v1/team/{team}/notification-channel", {"value": "q@example.com", "priority": 1},
     None),
    ("DELETE", "/v1/team/{team}/notification-channel", None, "priority=1"),
    ("POST", "/v1/team/{team}/notification-channel/test", {"priority": 1}, None),
    ("PUT", "/v1/team/{team}/notification-channel/enabled", {"enabled": False, "priority": 1},
     None),
    ("POST", "/v1/service", {"name": "x", "team_id": "{team}"}, None),
    ("PUT", "/v1/service/{service}", {"name": "x"}, None),
    ("DELETE", "/v1/service/{service}", None, None),
]
MANAGER_MAY_NOT = [call for call in USER_MAY_NOT
                   if "member" in call[1] or "invitation" in call[1]
                   or (call[0] == "DELETE" and call[1] == "/v1/team/{second}")
                   or call[1] == "/v1/team"]


@pytest.mark.parametrize("role, forbidden", [("user", USER_MAY_NOT), ("manager", MANAGER_MAY_NOT)])
def test_what_users_and_managers_may_not_do_is_a_403(client, world, role, forbidden):
    cast, second, service = world
    Membership.update(role=role).where(Membership.customer == cast.bob.id).execute()
    organisations.Membership.create(team=second, customer=cast.bob.id, role=role,
                                    joined_at=clock.now())
    ids = {"team": cast.team.id, "second": second.id, "alice": cast.alice.id,
           "service": service.id}
    before = snapshot()
    for method, path, body, query in forbidden:
        body = {k: v.format(**ids) if isinstance(v, str) else v for k, v in (body or {}).items()}
        response = client.simulate_request(method, path.format(**ids), json=body or None,
                                           query_string=query, headers=bearer(cast.bob_token))
        assert response.status_code == 403, (method, path, response.status_code, response.text)
        assert response.json["error"]["code"] == "role_required"
    assert snapshot() == before
