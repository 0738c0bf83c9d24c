"""Every schedule read as shifts of people: a roster is a team's schedule or one OCS tier, and
its shifts name customers (not OCS contacts). Escalation, shift notices, gap warnings and the
calendar feeds all read schedules through here, so each computes through the engine the same
way; the two APIs' operations (`team_schedules`, `ocs`) write what is read here.

A team schedule entry counts while its member belongs to the team: one who left is neither
on call, nor told, nor in a feed (their entries come back if they rejoin).

At import this module registers the `team`, `person` and `ocs` calendar feeds.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Callable, Iterator

import peewee

from models.accounts import Customer
from models.errors import NotFound
from models.oncall import engine, feeds, layers
from models.oncall.tables import Contact, OcsSchedule, OcsTier, TeamScheduleEntry
from models.organisations import Membership, Team

_INSTANT = dt.timedelta(microseconds=1)


@dataclasses.dataclass(frozen=True)
class Roster:
    kind: str                    # "team" (a team's schedule) or "ocs-tier"
    subject_id: object           # the team's id, or the tier's
    place: str                   # "Ops", "Primary tier 1": where a feed says one is on call
    label: str                   # "team Ops", "tier 1 of on-call schedule Primary"
    organisation_id: object
    team_id: object              # who hears of its gaps: the team (None: the schedule's owner)
    owner_id: object             # an OCS schedule's customer
    compute: Callable[[dt.datetime, dt.datetime], list[engine.Shift]]

    def shifts(self, since: dt.datetime, until: dt.datetime) -> list[engine.Shift]:
        """The roster's shifts over the window, each naming a customer id."""
        return self.compute(since, until)


def all_rosters(organisation_id=None) -> Iterator[Roster]:
    """Every team that has schedule entries, and every OCS tier (of one organisation)."""
    teams = Team.select().where(Team.id.in_(
        TeamScheduleEntry.select(TeamScheduleEntry.team).distinct()))
    tiers = OcsTier.select(OcsTier, OcsSchedule).join(OcsSchedule).order_by(
        OcsSchedule.id, OcsTier.number)
    if organisation_id is not None:
        teams = teams.where(Team.organisation == organisation_id)
        tiers = tiers.where(OcsSchedule.organisation == organisation_id)
    for team in teams:
        yield team_roster(team)
    for tier in tiers:
        yield tier_roster(tier)


# -- team schedules ---------------------------------------------------------------------------

def team_roster(team: Team) -> Roster:
    def compute(since, until):
        return engine.recurrence_shifts(recurrences_of(team.id), since, until)
    return Roster("team", team.id, team.name, f"team {team.name}", team.organisation_id,
                  team.id, None, compute)


def recurrence(entry: TeamScheduleEntry) -> engine.Recurrence:
    """The entry as the engine reads it; its contact is the member's customer id (a UUID)."""
    return engine.Recurrence(
        contact=uuid.UUID(str(entry.customer_id)), start_at=entry.start_date,
        end_at=entry.end_date, start_time=dt.time.fromisoformat(entry.start_time),
        end_time=dt.time.fromisoformat(entry.end_time), zone=entry.timezone,
        months=_set(entry.months_of_year), weeks=_set(entry.weeks_of_month),
        week_days=_set(entry.week_days))


def recurrences_of(team_id) -> list[engine.Recurrence]:
    """Every entry of the team (of its current members) as engine recurrences, oldest first."""
    return [recurrence(entry) for entry in of_team(team_id)]


def team_on_call(team_id, now) -> list[uuid.UUID]:
    """The customer ids the team's schedule has on call at `now`, each once, in the order
    their first entry in the team was created ([] when nobody is)."""
    entries = list(of_team(team_id))
    shifts = engine.recurrence_shifts([recurrence(e) for e in entries], now, now + _INSTANT)
    on = {shift.contact for shift in shifts}
    ids = (uuid.UUID(str(entry.customer_id)) for entry in entries)
    return list(dict.fromkeys(ident for ident in ids if ident in on))


def current_entries() -> peewee.ModelSelect:
    """Entries whose member still belongs to their team, with the team joined."""
    return (TeamScheduleEntry.select(TeamScheduleEntry)
            .join(Membership, on=((Membership.team == TeamScheduleEntry.team)
                                  & (Membership.customer == TeamScheduleEntry.customer)))
            .switch(TeamScheduleEntry).join(Team))


def of_team(team_id) -> peewee.ModelSelect:
    return (current_entries().where(TeamScheduleEntry.team == team_id)
            .order_by(TeamScheduleEntry.created_at, TeamScheduleEntry.id))


# -- OCS tiers --------------------------------------------------------------------------------

def tier_roster(tier: OcsTier) -> Roster:
    schedule = tier.schedule

    def compute(since, until):
        current = OcsTier.get_or_none(OcsTier.id == tier.id)   # as it is now, after an edit
        if current is None:
            return []
        shifts = engine.tier_timeline(layers.tier_layers(current),
                                      layers.on_demand_of(current), since, until)
        customers = dict(Contact.select(Contact.id, Contact.customer).where(
            Contact.id.in_(list({s.contact for s in shifts}))).tuples())
        return [dataclasses.replace(s, contact=uuid.UUID(str(customers[s.contact])))
                for s in shifts if s.contact in customers]
    return Roster("ocs-tier", tier.id, f"{schedule.name} tier {tier.number}",
                  f"tier {tier.number} of on-call schedule {schedule.name}",
                  schedule.organisation_id, None, schedule.customer_id, compute)


def schedule_rosters(schedule_id) -> list[Roster]:
    tiers = (OcsTier.select(OcsTier, OcsSchedule).join(OcsSchedule)
             .where(OcsTier.schedule == schedule_id).order_by(OcsTier.number))
    return [tier_roster(tier) for tier in tiers]


# -- calendar feeds ---------------------------------------------------------------------------

def _team_feed(subject: str, since, until) -> list[tuple[str, engine.Shift]]:
    return _named(team_roster(_found(Team, subject)), since, until)


def _ocs_feed(subject: str, since, until) -> list[tuple[str, engine.Shift]]:
    found = []
    for roster in schedule_rosters(_found(OcsSchedule, subject, int).id):
        found += _named(roster, since, until)
    return sorted(found, key=lambda item: (item[1].start_at, item[0]))


def _person_feed(subject: str, since, until) -> list[tuple[str, engine.Shift]]:
    """A person's shifts in every roster of their organisation."""
    customer = _found(Customer, subject)
    found = [(f"On call: {roster.place}", shift)
             for roster in all_rosters(customer.organisation_id)
             for shift in roster.shifts(since, until) if shift.contact == customer.id]
    return sorted(found, key=lambda item: (item[1].start_at, item[0]))


def _named(roster: Roster, since, until) -> list[tuple[str, engine.Shift]]:
    shifts = roster.shifts(since, until)
    names = {c.id: f"{c.name} {c.surname}" for c in Customer.select(
        Customer.id, Customer.name, Customer.surname).where(
        Customer.id.in_(list({s.contact for s in shifts})))}
    return [(f"On call: {roster.place} ({names.get(s.contact, 'former member')})", s)
            for s in shifts]


def _found(model, subject: str, parse=uuid.UUID):
    row = model.get_or_none(model.id == parse(subject))
    if row is None:
        raise NotFound("No such calendar feed.")
    return row


def _set(values) -> frozenset[int] | None:
    return None if values is None else frozenset(values)


def _calendar_name(model, parse=uuid.UUID):
    def name_of(subject: str) -> str:
        row = _found(model, subject, parse)
        who = f"{row.name} {row.surname}" if model is Customer else row.name
        return f"{who}: on call (Pinghome)"
    return name_of


feeds.register("team", _team_feed, _calendar_name(Team))
feeds.register("person", _person_feed, _calendar_name(Customer))
feeds.register("ocs", _ocs_feed, _calendar_name(OcsSchedule, int))
