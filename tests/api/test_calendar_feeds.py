"""Calendar feeds: a secret address per team schedule and per person, which calendar apps read
without signing in; the feed parses as iCalendar and holds the computed shifts."""
from __future__ import annotations

import dataclasses
import datetime as dt
from urllib.parse import urlsplit

import icalendar
import pytest

from models import clock, organisations
from models.oncall import feeds
from tests.factories.accounts import bearer
from tests.factories.oncall import at, make_entry
from tests.factories.organisations import caller_of, make_cast, make_team

NOW = at(2024, 1, 1, 9, 30)      # the feed shows 25 December 09:30 to 31 March 09:30
WEEK = dt.timedelta(weeks=1)


@pytest.fixture
def cast(settings, monkeypatch):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return make_cast(settings, bob_role="user")


def address(client, path, token):
    response = client.simulate_get(path, headers=bearer(token))
    assert response.status_code == 200, response.json
    return response.json["url"]


def read(client, url):
    """The feed at `url`, fetched as a calendar app would: no credentials."""
    return client.simulate_get(urlsplit(url).path)


def events(response) -> list:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    return [(str(e["summary"]), e.decoded("dtstart"), e.decoded("dtend"), str(e["uid"]))
            for e in calendar.walk("VEVENT")]


def mondays(first: dt.datetime, last: dt.datetime, hours: tuple[int, int]):
    """Mondays `hours` (UTC) from the week of `first` to that of `last`."""
    day = first
    while day <= last:
        yield day.replace(hour=hours[0]), day.replace(hour=hours[1])
        day += WEEK


def test_a_team_feed_holds_its_members_shifts_from_a_week_ago_to_90_days_on(client, cast,
                                                                            settings):
    # Bob on Mondays 08:00-12:00 all year; Alice one night, 22:00 to 06:00
    make_entry(cast.team, cast.bob, start_date=at(2023, 12, 1), end_date=at(2024, 12, 31),
               week_days=[1], start_time="08:00:00", end_time="12:00:00")
    make_entry(cast.team, cast.alice, start_date=at(2024, 1, 10), end_date=at(2024, 1, 11),
               start_time="22:00:00", end_time="06:00:00")
    path = f"/v1/team/{cast.team.id}/schedule/calendar"
    url = address(client, path, cast.alice_token)
    assert url.startswith(f"{settings.public_url}/v1/calendar/") and url.endswith(".ics")
    assert address(client, path, cast.bob_token) == url          # one feed, any member

    found = events(read(client, url))
    bob = [(f"On call: {cast.team.name} (Bob Liddell)", start, end)
           for start, end in mondays(at(2023, 12, 25), at(2024, 3, 25), (8, 12))]
    bob[0] = (bob[0][0], NOW - 7 * dt.timedelta(days=1), bob[0][2])  # cut at the window
    alice = (f"On call: {cast.team.name} (Alice Liddell)", at(2024, 1, 10, 22),
             at(2024, 1, 11))                                   # the entry ends at midnight
    assert [e[:3] for e in found] == sorted(bob + [alice], key=lambda e: e[1])
    assert len(bob) == 14
    uids = [e[3] for e in found]
    assert len(set(uids)) == len(uids)
    assert [e[3] for e in events(read(client, url))] == uids      # stable from read to read
    calendar = icalendar.Calendar.from_ical(read(client, url).content)
    assert str(calendar["x-wr-calname"]) == f"{cast.team.name}: on call (Pinghome)"
    assert b"DTSTART:20240101T080000Z" in read(client, url).content


def test_a_person_s_feed_holds_their_shifts_in_all_their_teams(client, cast):
    own = make_team(cast.bob, name="Bob's team")
    make_entry(cast.team, cast.bob, week_days=[2], start_time="09:00:00",
               end_time="10:00:00", end_date=at(2024, 1, 10))
    make_entry(own, cast.bob, week_days=[3], start_time="09:00:00", end_time="10:00:00",
               end_date=at(2024, 1, 10))
    make_entry(cast.team, cast.alice)                              # not Bob's: not shown
    url = address(client, f"/v1/customer/{cast.bob.id}/schedule/calendar", cast.bob_token)
    assert [e[:3] for e in events(read(client, url))] == [
        (f"On call: {cast.team.name}", at(2024, 1, 2, 9), at(2024, 1, 2, 10)),
        ("On call: Bob's team", at(2024, 1, 3, 9), at(2024, 1, 3, 10)),
        (f"On call: {cast.team.name}", at(2024, 1, 9, 9), at(2024, 1, 9, 10))]


def test_a_person_s_feed_is_theirs_alone(client, cast):
    path = f"/v1/customer/{cast.bob.id}/schedule/calendar"
    for method in ("GET", "POST"):
        colleague = client.simulate_request(method, path, headers=bearer(cast.alice_token))
        assert colleague.status_code == 403, method
        outsider = client.simulate_request(method, path, headers=bearer(cast.charlie_token))
        assert outsider.status_code == 404 and outsider.json["error"]["code"] == "not_found"


def test_replacing_the_address_ends_the_old_one(client, cast):
    make_entry(cast.team, cast.bob)
    path = f"/v1/team/{cast.team.id}/schedule/calendar"
    old = address(client, path, cast.bob_token)
    assert client.simulate_post(path, headers=bearer(cast.bob_token)).status_code == 403
    replaced = client.simulate_post(path, headers=bearer(cast.alice_token))
    assert replaced.status_code == 200
    new = replaced.json["url"]
    assert new != old and address(client, path, cast.bob_token) == new
    gone = read(client, old)
    assert gone.status_code == 404 and gone.json["error"]["code"] == "not_found"
    assert events(read(client, new))

    mine = f"/v1/customer/{cast.bob.id}/schedule/calendar"
    old = address(client, mine, cast.bob_token)
    new = client.simulate_post(mine, headers=bearer(cast.bob_token)).json["url"]
    assert read(client, old).status_code == 404 and read(client, new).status_code == 200


def test_another_organisation_gets_no_address_of_your_team(client, cast):
    path = f"/v1/team/{cast.team.id}/schedule/calendar"
    url = address(client, path, cast.alice_token)
    for method in ("GET", "POST"):
        response = client.simulate_request(method, path, headers=bearer(cast.charlie_token))
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert read(client, url).status_code == 200                 # and changed nothing


def test_no_address_is_answered_without_signing_in(client, cast):
    for path in (f"/v1/team/{cast.team.id}/schedule/calendar",
                 f"/v1/customer/{cast.bob.id}/schedule/calendar"):
        assert client.simulate_get(path).status_code == 401


@pytest.mark.parametrize("token", ["nothing", "a" * 43, "%00", "x" * 3000])
def test_an_unknown_feed_is_a_404(client, cast, token):
    response = client.simulate_get(f"/v1/calendar/{token}.ics")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_the_feed_of_a_deleted_team_is_gone(client, cast):
    other = make_team(cast.alice)
    url = address(client, f"/v1/team/{other.id}/schedule/calendar", cast.alice_token)
    organisations.delete_team(caller_of(cast.alice), other.id)
    assert read(client, url).status_code == 404


def test_a_feed_of_a_kind_nobody_registered_is_a_404(client, cast, settings):
    token = feeds.token_for(cast.team.organisation_id, "unregistered", "1",
                            settings=settings, now=NOW)
    assert client.simulate_get(f"/v1/calendar/{token}.ics").status_code == 404


def test_a_new_secret_key_gives_new_addresses_and_ends_the_old(client, cast, settings):
    old = feeds.token_for(cast.team.organisation_id, "team", cast.team.id, settings=settings,
                          now=NOW)
    rotated = dataclasses.replace(settings, secret_key="another-secret-key-" + "0" * 32)
    new = feeds.token_for(cast.team.organisation_id, "team", cast.team.id, settings=rotated,
                          now=NOW)
    assert new != old
    assert client.simulate_get(f"/v1/calendar/{old}.ics").status_code == 404
    assert client.simulate_get(f"/v1/calendar/{new}.ics").status_code == 200
