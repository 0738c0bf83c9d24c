"""Every schedule's shifts as people: a roster is a team's schedule or one OCS tier, whose
shifts name customers (not contacts). Shift notices, gap warnings and calendar feeds all read
schedules through here, so each computes through the engine the same way."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Callable, Iterator

from models.oncall import engine, layers, team_schedules
from models.oncall.tables import Contact, OcsSchedule, OcsTier, TeamScheduleEntry
from models.organisations import Team


@dataclasses.dataclass(frozen=True)
class Roster:
    kind: str                    # "team" (a team's schedule) or "ocs-tier"
    subject_id: object           # the team's id, or the tier's
    label: str                   # "team Ops", "tier 1 of on-call schedule Primary"
    organisation_id: object
    team_id: object              # who hears of its gaps: the team (None: the schedule's owner)
    owner_id: object             # an OCS schedule's customer
    compute: Callable[[dt.datetime, dt.datetime], list[engine.Shift]]

    def shifts(self, since: dt.datetime, until: dt.datetime) -> list[engine.Shift]:
        """The roster's shifts over the window, each naming a customer id."""
        return self.compute(since, until)


def all_rosters() -> Iterator[Roster]:
    """Every team that has schedule entries, and every OCS tier."""
    teams = (Team.select().where(Team.id.in_(
        TeamScheduleEntry.select(TeamScheduleEntry.team).distinct())))
    for team in teams:
        yield team_roster(team)
    for tier in OcsTier.select(OcsTier, OcsSchedule).join(OcsSchedule):
        yield tier_roster(tier)


def team_roster(team: Team) -> Roster:
    def compute(since, until):
        return engine.recurrence_shifts(team_schedules.recurrences_of(team.id), since, until)
    return Roster("team", team.id, f"team {team.name}", team.organisation_id, team.id, None,
                  compute)


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
        return [dataclasses.replace(s, contact=customers[s.contact])
                for s in shifts if s.contact in customers]
    return Roster("ocs-tier", tier.id, f"tier {tier.number} of on-call schedule {schedule.name}",
                  schedule.organisation_id, None, schedule.customer_id, compute)
