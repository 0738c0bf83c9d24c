"""Team schedule entries for tests: plain functions with defaults and keyword overrides."""
from __future__ import annotations

import datetime as dt

from models import clock
from models.oncall import team_schedules
from models.organisations import Membership
from tests.factories.organisations import caller_of

UTC = dt.timezone.utc


def at(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def entry_fields(member, **overrides) -> dict:
    """The fields of an entry as the domain takes them: all of January 2024, all day."""
    return {"team_member_id": member.id, "start_date": at(2024, 1, 1),
            "end_date": at(2024, 2, 1), "months_of_year": None, "weeks_of_month": None,
            "week_days": None, "start_time": "00:00:00", "end_time": "23:59:59",
            "timezone": "UTC", **overrides}


def make_entry(team, member, *, by=None, now: dt.datetime | None = None, **overrides):
    """An entry of `team` for `member`, written by `by` (default: the team's owner)."""
    if by is None:
        by = Membership.get(Membership.team == team, Membership.role == "owner").customer
    return team_schedules.create_entry(caller_of(by), team.id, entry_fields(member, **overrides),
                                       now=now or clock.now())
