"""Team schedules as escalation reads them: recurrences_of and on_call_now, and the members who
count (those still in the team)."""
from __future__ import annotations

import datetime as dt
import uuid

import pytest

from models import organisations
from models.errors import Conflict
from models.oncall import engine, rosters, team_schedules
from models.oncall.tables import TeamScheduleEntry
from tests.factories.oncall import at, make_entry
from tests.factories.organisations import caller_of, make_cast


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="manager")


def test_recurrences_of_a_team_are_its_entries_with_the_member_as_contact(cast):
    make_entry(cast.team, cast.bob, week_days=[1, 3], start_time="22:00:00",
               end_time="06:00:00", timezone="Europe/Berlin", now=at(2024, 1, 1, 9))
    make_entry(cast.team, cast.alice, months_of_year=[1], weeks_of_month=[-1],
               now=at(2024, 1, 1, 10))
    bob, alice = rosters.recurrences_of(cast.team.id)
    assert bob == engine.Recurrence(
        contact=uuid.UUID(str(cast.bob.id)), start_at=at(2024, 1, 1), end_at=at(2024, 2, 1),
        start_time=dt.time(22), end_time=dt.time(6), zone="Europe/Berlin",
        months=None, weeks=None, week_days=frozenset({1, 3}))
    assert (alice.contact, alice.months, alice.weeks) == (
        uuid.UUID(str(cast.alice.id)), frozenset({1}), frozenset({-1}))


def test_on_call_now_names_everyone_on_call_in_the_order_their_entries_were_made(cast):
    # Bob nights from 22:00 to 06:00 (Monday 1 January 2024 onwards), Alice every day
    make_entry(cast.team, cast.alice, start_time="00:00:00", end_time="23:59:59",
               now=at(2024, 1, 1, 8))
    make_entry(cast.team, cast.bob, start_time="22:00:00", end_time="06:00:00",
               now=at(2024, 1, 1, 9))
    alice, bob = uuid.UUID(str(cast.alice.id)), uuid.UUID(str(cast.bob.id))
    assert rosters.team_on_call(cast.team.id, at(2024, 1, 2, 3)) == [alice, bob]
    assert rosters.team_on_call(cast.team.id, at(2024, 1, 2, 6)) == [alice]
    assert rosters.team_on_call(cast.team.id, at(2024, 2, 1)) == []


def test_a_member_who_left_is_no_longer_on_call_nor_listed(cast):
    make_entry(cast.team, cast.bob, now=at(2024, 1, 1, 9))
    organisations.remove_member(caller_of(cast.bob), cast.team.id, cast.bob.id)
    assert rosters.team_on_call(cast.team.id, at(2024, 1, 5)) == []
    assert rosters.recurrences_of(cast.team.id) == []
    assert TeamScheduleEntry.select().count() == 1      # kept, should they come back


def test_entries_of_one_member_in_one_second_take_the_next_free_seconds(cast):
    now = at(2024, 1, 1, 9, 30, 0, 700_000)
    made = [make_entry(cast.team, cast.bob, now=now).created_at for _ in range(3)]
    assert made == [at(2024, 1, 1, 9, 30), at(2024, 1, 1, 9, 30, 1), at(2024, 1, 1, 9, 30, 2)]
    # another member's entry in that second keeps the second
    assert make_entry(cast.team, cast.alice, now=now).created_at == at(2024, 1, 1, 9, 30)


def test_a_second_taken_by_a_racing_request_is_left_for_the_next(cast, monkeypatch):
    """The unique key settles a race the look-up for free seconds cannot see: here the
    first look-up misses the entry another request has just written."""
    now = at(2024, 1, 1, 9, 30)
    make_entry(cast.team, cast.bob, now=now)
    looks = []
    original = team_schedules._taken

    def first_look_misses(*args):
        looks.append(args)
        return set() if len(looks) == 1 else original(*args)

    monkeypatch.setattr(team_schedules, "_taken", first_look_misses)
    assert make_entry(cast.team, cast.bob, now=now).created_at == at(2024, 1, 1, 9, 30, 1)
    assert len(looks) == 2


def test_a_second_lost_to_racing_requests_every_time_is_a_conflict(cast, monkeypatch):
    now = at(2024, 1, 1, 9, 30)
    make_entry(cast.team, cast.bob, now=now)
    monkeypatch.setattr(team_schedules, "_taken", lambda *args: set())
    with pytest.raises(Conflict):
        make_entry(cast.team, cast.bob, now=now)
    assert TeamScheduleEntry.select().count() == 1
