"""People hear of their shifts: before one starts, when an edit changes the next 14 days, and
teams of the gaps in the next 7; each message once however often the job runs."""
from __future__ import annotations

import datetime as dt

import pytest

from models.oncall import on_demand, rosters, shift_notices
from models.oncall.tables import TeamScheduleEntry
from models.outbox import Delivery
from tests.factories.oncall import T0, channel, entry, make_people, schedule
from tests.jobs import held_jobs

MINUTE = dt.timedelta(minutes=1)


@pytest.fixture
def people(settings):
    with held_jobs():        # the messages are read from the outbox, not sent
        yield make_people(settings)


def told() -> list[tuple[str, str]]:
    return [(d.address, d.subject) for d in Delivery.select().where(
        Delivery.kind == shift_notices.KIND).order_by(Delivery.created_at, Delivery.address)]


def test_a_person_is_told_once_before_their_shift_starts(people):
    owner, team, contacts = people
    entry(team, contacts["Bob"].customer, start_time="12:10:00", end_time="20:00:00")
    assert shift_notices.notify_upcoming(minutes=15, now=T0 - 10 * MINUTE) == 0   # 20 min off
    assert shift_notices.notify_upcoming(minutes=15, now=T0) == 1
    assert shift_notices.notify_upcoming(minutes=15, now=T0 + MINUTE) == 0        # told before
    assert told() == [("https://bob.example/", "On call from 12:10 UTC: team " + team.name)]
    body = Delivery.get(Delivery.kind == shift_notices.KIND).body
    assert "starts at 2026-12-01T12:10:00Z and ends at 2026-12-01T20:00:00Z" in body


def test_an_ocs_tier_tells_the_contact_whose_turn_comes(people):
    owner, team, contacts = people
    schedule(team, [[contacts["Alice"], contacts["Carol"]]])    # daily turns from 09:00
    # T0 is 12:00; Carol's turn (the second day) started 2026-12-01 09:00, Alice's is next
    assert shift_notices.notify_upcoming(minutes=15, now=dt.datetime(
        2026, 12, 2, 8, 50, tzinfo=dt.timezone.utc)) == 1
    assert told() == [("https://alice.example/",
                       "On call from 09:00 UTC: tier 1 of on-call schedule Primary")]


def test_an_edit_tells_whose_next_fourteen_days_changed(people):
    owner, team, contacts = people
    bob, carol = contacts["Bob"].customer, contacts["Carol"].customer
    kept = entry(team, bob, start_time="09:00:00", end_time="17:00:00")
    moved = entry(team, carol, start_time="17:00:00", end_time="23:00:00",
                  created_at=T0 - dt.timedelta(days=2))
    with shift_notices.changes_told(rosters.team_roster(team), now=T0):
        TeamScheduleEntry.update(start_time="18:00:00").where(
            TeamScheduleEntry.id == moved.id).execute()
    assert [address for address, _ in told()] == ["https://carol.example/"]
    assert kept.start_time == "09:00:00"
    assert "2026-12-01T18:00:00Z to 2026-12-01T23:00:00Z" in Delivery.get(
        Delivery.kind == shift_notices.KIND).body


def test_gaps_of_the_next_week_are_told_to_the_team_once_a_day(people):
    owner, team, contacts = people
    channel("https://team.example/", team=team, priority=1)
    entry(team, contacts["Bob"].customer, start_time="09:00:00", end_time="17:00:00")
    assert shift_notices.warn_gaps(now=T0) == 1
    assert shift_notices.warn_gaps(now=T0 + dt.timedelta(hours=1)) == 0
    assert shift_notices.warn_gaps(now=T0 + dt.timedelta(days=1)) == 1
    body = Delivery.select().where(Delivery.kind == shift_notices.KIND).first().body
    assert "- 2026-12-01T17:00:00Z to 2026-12-02T09:00:00Z" in body


def test_a_tier_not_set_up_yet_warns_nobody(people):
    owner, team, contacts = people
    schedule(team, [[]])
    assert shift_notices.warn_gaps(now=T0) == 0


def test_an_on_demand_shift_tells_both_whose_shifts_it_changes(people):
    owner, team, contacts = people
    ocs = schedule(team, [[contacts["Alice"]]])
    tier = ocs.tiers.get()
    on_demand.create_shift(owner, tier_id=tier.id, contact=contacts["Bob"].id,
                           start_at=T0 + dt.timedelta(hours=2), end_at=T0 + dt.timedelta(hours=4),
                           sure=True, now=T0)
    assert [address for address, _ in told()] == ["https://alice.example/",
                                                  "https://bob.example/"]
    bob = Delivery.get(Delivery.address == "https://bob.example/").body
    assert "- 2026-12-01T14:00:00Z to 2026-12-01T16:00:00Z" in bob
