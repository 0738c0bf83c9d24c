"""What the OCS API computes, always through the rotation engine: compute_tier's preview (138),
a tier's state now (135), a schedule with its tiers' shifts (140) and its statistics (143).
Nothing here stores anything.

Windows are half-open, [since, until), to the second; the default is from now to 60 days on
(the seed's compute_tier example spans exactly 60 days).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from models.clock import to_second
from models.errors import Invalid
from models.oncall import engine, ocs
from models.oncall.contacts import Card, cards
from models.oncall.layers import on_demand_of, parse_layers, tier_layers
from models.oncall.on_demand import item_problems
from models.oncall.tables import OcsTier

WINDOW = dt.timedelta(days=60)
LONGEST_WINDOW = dt.timedelta(days=366)


def window(now, since: dt.datetime | None = None,
           until: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """[since, until): by default from now (to the second) to 60 days on; a given `since`
    alone runs 60 days, a given `until` alone starts now. At most 366 days long."""
    since = to_second(since or now)
    until = to_second(until) if until else since + WINDOW
    if until <= since:
        raise Invalid("The window must end after it starts.", fields={"until": "after since"})
    if until - since > LONGEST_WINDOW:
        raise Invalid("A window is at most 366 days long.",
                      fields={"until": "at most 366 days after since"})
    return since, until


# -- compute_tier (138) -------------------------------------------------------------------------

def preview(caller, ref, *, layers: list, on_demand: list[dict], since, until,
            now) -> engine.Computed:
    """The tier's shifts over `window(now, since, until)`, computed from the posted layers
    and on-demand shifts (nothing stored is read but the tier's existence, nothing is
    written). A `{schedule}_{n}` id of a tier not made yet is fine: the preview comes before
    the PATCH that creates it."""
    ocs.tier_to_compute(caller, ref)
    since, until = window(now, since, until)
    parsed = parse_layers(layers, organisation_id=caller.organisation_id)
    problems = item_problems(on_demand, caller.organisation_id)
    if problems:
        raise Invalid("Some on-demand shifts are invalid.", fields=problems)
    overrides = [engine.OnDemand(item.get("id"), item["contact"], item["start_at"],
                                 item["end_at"]) for item in on_demand]
    return engine.compute_tier(parsed, overrides, since, until)


# -- a tier now (135) ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class TierNow:
    tier: OcsTier
    on_call: int | None               # the contact on call now
    until: dt.datetime | None         # ... until then (the end of their unbroken cover)
    next_contact: int | None          # the next other contact on call within 60 days
    next_from: dt.datetime | None
    contacts: list[Card]              # the contacts its layers and on-demand shifts name


def tier_now(caller, ref, *, now) -> TierNow:
    tier = ocs.tier_for(caller, ref)
    since, until = window(now)
    final = engine.tier_timeline(tier_layers(tier), on_demand_of(tier), since, until)
    on_call, covered_until, upcoming = None, None, final
    if final and final[0].start_at <= since:
        on_call, covered_until = final[0].contact, final[0].end_at
        for shift in final[1:]:
            if shift.contact != on_call or shift.start_at > covered_until:
                break
            covered_until = shift.end_at
        upcoming = [s for s in final if s.start_at >= covered_until]
    following = next((s for s in upcoming if s.contact != on_call), None)
    return TierNow(tier, on_call, covered_until, following and following.contact,
                   following and following.start_at,
                   cards(caller.organisation_id, named_contacts(tier)))


def named_contacts(tier) -> set[int]:
    """The contacts a tier's stored layers and on-demand shifts name."""
    named = {c for layer in tier.layers or [] if isinstance(layer, dict)
             for c in layer.get("contacts") or [] if isinstance(c, int)}
    return named | {shift.contact for shift in on_demand_of(tier)}


# -- a schedule (140) ---------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ScheduleView:
    schedule: object
    tiers: list[OcsTier]
    computed: list[engine.Computed]   # per tier, over the default window
    contacts: dict[int, Card]         # every contact its tiers name or have on call


def schedule_view(caller, schedule_id, *, now) -> ScheduleView:
    schedule = ocs.schedule_for(caller, schedule_id)
    tiers = ocs.tiers_of(schedule)
    since, until = window(now)
    computed = [engine.compute_tier(tier_layers(tier), on_demand_of(tier), since, until)
                for tier in tiers]
    named = set().union(*(named_contacts(tier) for tier in tiers)) if tiers else set()
    named |= {s.contact for c in computed for s in c.final}
    return ScheduleView(schedule, tiers, computed,
                        {card.id: card for card in cards(caller.organisation_id, named)})


# -- statistics (143) ---------------------------------------------------------------------------

STAT_FIELDS = ("contact", "shifts", "hours", "night_hours", "weekend_hours")


@dataclasses.dataclass(frozen=True)
class ContactRow:
    contact: Card
    shifts: int
    hours: float
    night_hours: float
    weekend_hours: float


@dataclasses.dataclass(frozen=True)
class Stats:
    since: dt.datetime
    until: dt.datetime
    rows: list[ContactRow]                         # in the order asked for
    uncovered: list[tuple[OcsTier, float]]         # per tier: hours nobody was on call


def schedule_stats(caller, schedule_id, *, timeframe_days: int, ordering: str, now) -> Stats:
    """Per contact over the last `timeframe_days` days up to now, summed over the schedule's
    tiers' final timelines: shifts, hours on call, of those at night (22:00-07:00) and at the
    weekend (Saturday and Sunday) by wall clock in the zone of the layer that supplied the
    shift (an on-demand shift: the tier's first layer's zone, else UTC); per tier, the hours
    nobody was on call. Contacts the layers name appear with zeros. Ties by contact id."""
    schedule = ocs.schedule_for(caller, schedule_id)
    until = to_second(now)
    since = until - dt.timedelta(days=timeframe_days)
    totals: dict[int, list] = {}
    uncovered = []
    for tier in ocs.tiers_of(schedule):
        found = tier_layers(tier)
        final = engine.tier_timeline(found, on_demand_of(tier), since, until)
        zones = {layer.index: layer.zone for layer in found}
        zones[None] = found[0].zone if found else "UTC"
        for row in engine.contact_stats(final, zones, since, until):
            total = totals.setdefault(row.contact, [0, 0.0, 0.0, 0.0])
            for n, value in enumerate((row.shifts, row.hours, row.night_hours,
                                       row.weekend_hours)):
                total[n] += value
        for contact in named_contacts(tier):
            totals.setdefault(contact, [0, 0.0, 0.0, 0.0])
        holes = engine.gaps(final, since, until)
        uncovered.append((tier, round(sum((e - s).total_seconds() for s, e in holes) / 3600, 2)))
    shown = {card.id: card for card in cards(caller.organisation_id, totals)}
    rows = [ContactRow(shown[c], t[0], round(t[1], 2), round(t[2], 2), round(t[3], 2))
            for c, t in totals.items() if c in shown]
    return Stats(since, until, _ordered(rows, ordering), uncovered)


def _ordered(rows: list[ContactRow], ordering: str) -> list[ContactRow]:
    name = ordering.lstrip("-")
    if name not in STAT_FIELDS:
        raise Invalid(f"ordering must be one of {', '.join(STAT_FIELDS)}, optionally with '-'.",
                      fields={"ordering": "unknown field"})
    rows = sorted(rows, key=lambda row: row.contact.id)
    key = (lambda row: row.contact.id) if name == "contact" else \
        (lambda row: getattr(row, name))
    return sorted(rows, key=key, reverse=ordering.startswith("-"))
