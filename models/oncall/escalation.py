"""Who an incident's `ocs` assignees reach now: an OCS schedule's tiers in escalation order,
each with whoever is on call in it (a team schedule's members on call are
`rosters.team_on_call`). Read by `models.incidents.notices` when it carries out a step;
computed through the engine."""
from __future__ import annotations

import dataclasses
import uuid

from models.oncall import engine, layers
from models.oncall.tables import OcsSchedule, OcsTier


@dataclasses.dataclass(frozen=True)
class Tier:
    schedule: OcsSchedule
    tier: OcsTier
    position: int            # 1 for the first tier to be told, whatever its number
    count: int               # tiers the schedule has

    @property
    def label(self) -> str:
        return f"tier {self.tier.number} of on-call schedule {self.schedule.name}"

    def next_step(self, loop: int) -> tuple[int, int] | None:
        """(loop, position) of the step after this one: the next tier, or the first again
        while the schedule has loops left; None after the last."""
        if self.position < self.count:
            return loop, self.position + 1
        if loop < self.schedule.escalation_loops:
            return loop + 1, 1
        return None


def ocs_tier(schedule_id, position: int) -> Tier | None:
    """The schedule's tier at `position` in escalation order (None: the schedule or that
    tier is gone)."""
    schedule = OcsSchedule.get_or_none(OcsSchedule.id == schedule_id)
    if schedule is None:
        return None
    tiers = list(OcsTier.select().where(OcsTier.schedule == schedule).order_by(OcsTier.number))
    if not 1 <= position <= len(tiers):
        return None
    return Tier(schedule, tiers[position - 1], position, len(tiers))


def tier_on_call(tier: OcsTier, now) -> uuid.UUID | None:
    """The customer on call in `tier` at `now` (None: nobody)."""
    contact = engine.on_call_at(layers.tier_layers(tier), layers.on_demand_of(tier), now)
    return None if contact is None else layers.customer_of_contact(contact)
