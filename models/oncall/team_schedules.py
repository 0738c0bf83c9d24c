"""Team on-call schedules (endpoints 98-101): entries that give a member of a team the shifts of
a recurrence, computed by the rotation engine (`engine.recurrence_shifts`), never stored.

An entry is named by (team member, `created_at` to the second): two entries of one member
created in the same second take consecutive seconds (the next one no entry of the member in
the team holds), so the name stays unique and is read back exactly. Managers and owners of
the team write entries; every member reads them. An entry counts while its member belongs to
the team: one who left is neither listed, paged nor shown in a feed (their entries come back
if they rejoin).
A write that changes a member's shifts in the next 14 days tells them (`shift_notices`).
"""
from __future__ import annotations

import datetime as dt
import uuid

import peewee

from models import organisations
from models.accounts import get_customer
from models.clock import to_second
from models.db import database, serialized
from models.errors import Conflict, Forbidden, Invalid, NotFound
from models.oncall import engine, feeds, rosters, shift_notices
from models.oncall.tables import TeamScheduleEntry
from models.organisations import Membership, Team

FIELDS = ("start_date", "end_date", "months_of_year", "weeks_of_month", "week_days",
          "start_time", "end_time", "timezone")
SHOWN = dt.timedelta(days=30)        # the customer's schedule shows the next 30 days' shifts
_SECOND = dt.timedelta(seconds=1)
_INSTANT = dt.timedelta(microseconds=1)
_ATTEMPTS = 5


# -- entries ----------------------------------------------------------------------------------

def create_entry(caller, team_id, fields: dict, now) -> TeamScheduleEntry:
    """A new entry of `team_id` (managers and owners) for `fields["team_member_id"]`, who must
    be a member of the team (`Invalid` naming `team_member_id`). Its `created_at` is `now` to
    the second, or the next second free for the member in the team."""
    team = organisations.team_for(caller, team_id, "manager")
    member = _member_of(team, fields["team_member_id"], "team_member_id")
    columns = _columns(fields)
    with serialized(), shift_notices.changes_told(rosters.team_roster(team), now=now):
        return _at_free_second(team.id, member, to_second(now), lambda at: TeamScheduleEntry.create(
            team=team.id, customer=member, created_at=at, updated_at=now, **columns))


def update_entry(caller, team_id, team_member_id, created_at, fields: dict,
                 now) -> TeamScheduleEntry:
    """Replaces the fields of the entry named (`team_member_id`, `created_at`) (managers and
    owners); `NotFound` for no such entry. With `fields["new_team_member_id"]` the entry moves
    to that member (who must be in the team), keeping its `created_at` unless the member has
    an entry at that second already, then taking the next free one."""
    team = organisations.team_for(caller, team_id, "manager")
    entry = _entry(team, team_member_id, created_at)
    member = entry.customer_id
    if fields.get("new_team_member_id") is not None:
        member = _member_of(team, fields["new_team_member_id"], "new_team_member_id")
    columns = {**_columns(fields), "updated_at": now}
    with serialized(), shift_notices.changes_told(rosters.team_roster(team), now=now):
        if member == entry.customer_id:
            TeamScheduleEntry.update(**columns).where(TeamScheduleEntry.id == entry.id).execute()
        else:
            _at_free_second(team.id, member, entry.created_at, lambda at: (
                TeamScheduleEntry.update(customer=member, created_at=at, **columns)
                .where(TeamScheduleEntry.id == entry.id).execute()))
    found = TeamScheduleEntry.get_or_none(TeamScheduleEntry.id == entry.id)
    if found is None:                      # deleted meanwhile
        raise NotFound("No such schedule entry.")
    return found


def delete_entry(caller, team_id, team_member_id, created_at, now) -> None:
    """Deletes the entry named (`team_member_id`, `created_at`) (managers and owners);
    `NotFound` for no such entry. Its shifts go with it."""
    team = organisations.team_for(caller, team_id, "manager")
    with serialized(), shift_notices.changes_told(rosters.team_roster(team), now=now):
        deleted = TeamScheduleEntry.delete().where(
            TeamScheduleEntry.team == team.id, TeamScheduleEntry.customer == team_member_id,
            TeamScheduleEntry.created_at == created_at).execute()
    if not deleted:
        raise NotFound("No such schedule entry.")


def customer_schedule(caller, customer_id, now) -> list[tuple[TeamScheduleEntry, list]]:
    """The entries of a customer of the caller's organisation (`NotFound` for anyone else's)
    in the teams both belong to, by team then `created_at`, each with its shifts from `now`
    to `SHOWN` on (a shift under way is cut at `now`)."""
    customer = get_customer(caller, customer_id)
    teams = [team.id for team, _ in organisations.caller_teams(caller)]
    entries = (rosters.current_entries().where(TeamScheduleEntry.customer == customer.id,
                                TeamScheduleEntry.team.in_(teams))
               .order_by(Team.created_at, Team.id, TeamScheduleEntry.created_at))
    return [(entry, engine.recurrence_shifts([rosters.recurrence(entry)], now, now + SHOWN))
            for entry in entries]


# -- calendar feeds ---------------------------------------------------------------------------

def team_feed(caller, team_id, *, replace: bool, settings, now) -> str:
    """The token of the team schedule's calendar feed: any member gets it, managers and
    owners replace it (`replace`), which ends the previous address."""
    team = organisations.team_for(caller, team_id, "manager" if replace else "user")
    issue = feeds.replace_token if replace else feeds.token_for
    return issue(team.organisation_id, "team", team.id, settings=settings, now=now)


def person_feed(caller, customer_id, *, replace: bool, settings, now) -> str:
    """The token of a person's calendar feed (their shifts in all their teams), for
    themself only: `NotFound` for another organisation's customer, `Forbidden` for a
    colleague's."""
    customer = get_customer(caller, customer_id)
    if customer.id != caller.customer.id:
        raise Forbidden("A person's calendar feed is theirs alone; ask for your own.",
                        code="not_yourself")
    issue = feeds.replace_token if replace else feeds.token_for
    return issue(caller.organisation_id, "person", customer.id, settings=settings, now=now)


# -- internals --------------------------------------------------------------------------------

def _columns(fields: dict) -> dict:
    """The entry's columns from fields the edge checked one by one (times `HH:MM:SS`, a known
    zone, `start_date` before `end_date`, recurrence lists in range, sorted, each once)."""
    columns = {name: fields.get(name) for name in FIELDS}
    columns["timezone"] = columns["timezone"] or "UTC"
    return columns


def _at_free_second(team_id, customer_id, wanted: dt.datetime, write):
    """`write(created_at)` at the first second from `wanted` on that no entry of the member
    in the team holds. The unique key on (team, member, created_at) settles a race with
    another request: the loser looks again for the next free second."""
    for _ in range(_ATTEMPTS):
        taken = _taken(team_id, customer_id, wanted)
        at = wanted
        while at in taken:
            at += _SECOND
        try:
            with database.atomic():
                return write(at)
        except peewee.IntegrityError:
            continue
    raise Conflict("Entries of this member are being created at this moment; try again.",
                   code="entry_busy")


def _taken(team_id, customer_id, since: dt.datetime) -> set[dt.datetime]:
    return {at for (at,) in TeamScheduleEntry.select(TeamScheduleEntry.created_at).where(
        TeamScheduleEntry.team == team_id, TeamScheduleEntry.customer == customer_id,
        TeamScheduleEntry.created_at >= since).tuples()}


def _member_of(team, customer_id, field: str):
    if not Membership.select().where(Membership.team == team.id,
                                     Membership.customer == customer_id).exists():
        raise Invalid(f"That person is not a member of team '{team.name}'.",
                      fields={field: "not a member of this team"})
    return uuid.UUID(str(customer_id))


def _entry(team, team_member_id, created_at) -> TeamScheduleEntry:
    entry = TeamScheduleEntry.get_or_none(
        TeamScheduleEntry.team == team.id, TeamScheduleEntry.customer == team_member_id,
        TeamScheduleEntry.created_at == created_at)
    if entry is None:
        raise NotFound("No such schedule entry: none of this member was created at that "
                       "second in this team.")
    return entry


