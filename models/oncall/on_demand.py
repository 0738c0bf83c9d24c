"""On-demand shifts of OCS tiers (endpoints 128-133): `contact` on call over [start, end),
beating every layer of the tier.

`sure` (the seed: "If true – will save and run over existing shifts and split them if needed;
if false – will not save if there is a shift set already for the same times"):

- absent or false: refused with 409 (`shift_overlaps`, nothing saved) when anyone is on call
  in the tier at any instant of [start, end) (from its layers or from another on-demand
  shift), i.e. when the tier's final timeline has a shift there;
- true: saved; the tier's other on-demand shifts it overlaps make room: one it covers whole
  is deleted, one that sticks out on one side is trimmed to that side, one that sticks out on
  both sides is split (the earlier part stays in its row, the later part becomes a new row
  with a new id). So a tier's stored on-demand shifts never overlap. Layer shifts are not
  stored: the engine lets the on-demand shift override them.

Every change holds the tier's row until it commits, so two changes to one tier's shifts
cannot interleave and leave overlapping shifts behind.
"""
from __future__ import annotations

import datetime as dt

from models.clock import isoformat, to_second
from models.db import locked, serialized
from models.errors import Conflict, Invalid, NotFound
from models.oncall import engine, layers, ocs, rosters, shift_notices
from models.oncall.contacts import known_contacts
from models.oncall.layers import is_id
from models.oncall.tables import OcsSchedule, OcsTier, OnDemandShift


def _of_organisation(caller):
    return (OnDemandShift.select(OnDemandShift, OcsTier).join(OcsTier).join(OcsSchedule)
            .where(OcsSchedule.organisation == caller.organisation_id))


def list_shifts(caller, tier) -> list[OnDemandShift]:
    """A tier's on-demand shifts by start (`tier` its id or `{schedule}_{n}`)."""
    found = ocs.tier_for(caller, tier)
    return list(OnDemandShift.select().where(OnDemandShift.tier == found.id)
                .order_by(OnDemandShift.start_at, OnDemandShift.id))


def count_shifts(caller, tier=None) -> int:
    """The organisation's on-demand shifts (one tier's if given)."""
    if tier is not None:
        return OnDemandShift.select().where(
            OnDemandShift.tier == ocs.tier_for(caller, tier).id).count()
    return _of_organisation(caller).count()


def shift_for(caller, shift_id) -> OnDemandShift:
    found = (_of_organisation(caller).where(OnDemandShift.id == shift_id).first()
             if is_id(shift_id) else None)
    if found is None:
        raise NotFound("No such on-demand shift.")
    return found


def create_shift(caller, *, tier_id, contact, start_at, end_at, sure: bool,
                 now) -> OnDemandShift:
    """A new on-demand shift of a visible tier (`NotFound` otherwise) for one of the
    organisation's contacts; see the module's docstring for `sure`."""
    tier = ocs.tier_for(caller, tier_id)
    ocs.ensure_writer(caller)
    start_at, end_at = _span(start_at, end_at)
    _check_contact(caller, contact)
    with serialized(), shift_notices.changes_told(rosters.tier_roster(tier), now=now):
        _lock(tier)
        _make_room(tier, start_at, end_at, sure=sure, excluding=None, now=now)
        shift = OnDemandShift.create(tier=tier.id, contact=contact, start_at=start_at,
                                     end_at=end_at, created_at=now)
        ocs.touch(tier.schedule_id, caller, now=now)
    return shift


def update_shift(caller, shift_id, fields: dict, *, sure: bool, now) -> OnDemandShift:
    """Changes the given fields (`start`, `end`, `contact`, `tier`: another visible tier);
    the shift's new place follows the same `sure` rule as a new one."""
    shift = shift_for(caller, shift_id)
    ocs.ensure_writer(caller)
    tier = ocs.tier_for(caller, fields["tier"]) if fields.get("tier") is not None \
        else shift.tier
    start_at, end_at = _span(fields.get("start_at") or shift.start_at,
                             fields.get("end_at") or shift.end_at)
    contact = fields.get("contact") or shift.contact_id
    if fields.get("contact") is not None:
        _check_contact(caller, contact)
    watched = [rosters.tier_roster(t) for t in {tier.id: tier, shift.tier_id: shift.tier}.values()]
    with serialized(), shift_notices.changes_told(*watched, now=now):
        for held in sorted({tier.id, shift.tier_id}):
            _lock(OcsTier(id=held))
        _make_room(tier, start_at, end_at, sure=sure, excluding=shift.id, now=now)
        OnDemandShift.update(tier=tier.id, contact=contact, start_at=start_at,
                             end_at=end_at).where(OnDemandShift.id == shift.id).execute()
        for schedule_id in {tier.schedule_id, shift.tier.schedule_id}:
            ocs.touch(schedule_id, caller, now=now)
    return OnDemandShift.get_by_id(shift.id)


def delete_shift(caller, shift_id, *, now) -> None:
    shift = shift_for(caller, shift_id)
    ocs.ensure_writer(caller)
    with serialized(), shift_notices.changes_told(rosters.tier_roster(shift.tier), now=now):
        OnDemandShift.delete().where(OnDemandShift.id == shift.id).execute()
        ocs.touch(shift.tier.schedule_id, caller, now=now)


def replace_shifts(caller, tier, items: list[dict], *, now) -> None:
    """A tier PATCH's `on_demand`: the items `{start_at, end_at, contact, id}` become the tier's
    shifts. An item with the `id` of one of the tier's shifts changes it, one without an id is
    new, and shifts not named are deleted. The items may not overlap each other; they are the
    whole override list, so no `sure` check against the layers applies. Call it in a
    transaction."""
    items = [{**item, "start_at": to_second(item["start_at"]),
              "end_at": to_second(item["end_at"])}
             for item in items]
    existing = {row.id for row in OnDemandShift.select(OnDemandShift.id)
                .where(OnDemandShift.tier == tier.id)}
    problems = item_problems(items, caller.organisation_id)
    for n, item in enumerate(items):
        if item.get("id") is not None and item["id"] not in existing:
            problems[f"on_demand.{n}.id"] = "no such on-demand shift in this tier"
    ordered = sorted(range(len(items)), key=lambda n: items[n]["start_at"])
    for before, after in zip(ordered, ordered[1:]):
        if items[after]["start_at"] < items[before]["end_at"]:
            problems.setdefault(f"on_demand.{after}.start", f"overlaps on_demand.{before}")
    if problems:
        raise Invalid("Some on-demand shifts are invalid.", fields=problems)
    _lock(tier)
    kept = {item["id"] for item in items if item.get("id") is not None}
    OnDemandShift.delete().where(OnDemandShift.tier == tier.id,
                                 OnDemandShift.id.not_in(list(kept) or [0])).execute()
    for item in items:
        values = {"contact": item["contact"], "start_at": item["start_at"],
                  "end_at": item["end_at"]}
        if item.get("id") is not None:
            OnDemandShift.update(**values).where(OnDemandShift.id == item["id"]).execute()
        else:
            OnDemandShift.create(tier=tier.id, created_at=now, **values)


# -- the rule -----------------------------------------------------------------------------------

def _make_room(tier, start_at, end_at, *, sure: bool, excluding, now) -> None:
    others = list(OnDemandShift.select().where(
        OnDemandShift.tier == tier.id, OnDemandShift.start_at < end_at,
        OnDemandShift.end_at > start_at, OnDemandShift.id != (excluding or 0)))
    if not sure:
        overrides = [engine.OnDemand(o.id, o.contact_id, o.start_at, o.end_at) for o in others]
        taken = engine.tier_timeline(layers.tier_layers(tier), overrides, start_at, end_at)
        if taken:
            first = taken[0]
            raise Conflict(
                f"Contact {first.contact} is on call in this tier from "
                f"{isoformat(first.start_at)} to {isoformat(first.end_at)}; send sure: true "
                "to override the shifts set for these times.",
                fields={"sure": "send true to run over the shifts set for these times"},
                code="shift_overlaps")
        return
    for other in others:
        if other.start_at < start_at and other.end_at > end_at:     # split around the new one
            OnDemandShift.create(tier=tier.id, contact=other.contact_id, start_at=end_at,
                                 end_at=other.end_at, created_at=now)
            OnDemandShift.update(end_at=start_at).where(OnDemandShift.id == other.id).execute()
        elif other.start_at < start_at:
            OnDemandShift.update(end_at=start_at).where(OnDemandShift.id == other.id).execute()
        elif other.end_at > end_at:
            OnDemandShift.update(start_at=end_at).where(OnDemandShift.id == other.id).execute()
        else:
            OnDemandShift.delete().where(OnDemandShift.id == other.id).execute()


def _span(start_at: dt.datetime, end_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    start_at, end_at = to_second(start_at), to_second(end_at)
    if start_at >= end_at:
        raise Invalid("An on-demand shift must end after it starts.",
                      fields={"end": "must be after start"})
    return start_at, end_at


def item_problems(items: list[dict], organisation_id) -> dict:
    """What is wrong with posted on-demand items `{start_at, end_at, contact}` one by one (a
    PATCH's or a compute_tier's): an end not after its start, a contact not the
    organisation's."""
    problems = {}
    known = known_contacts({item["contact"] for item in items}, organisation_id)
    for n, item in enumerate(items):
        if item["start_at"] >= item["end_at"]:
            problems[f"on_demand.{n}.end"] = "must be after start"
        if item["contact"] not in known:
            problems[f"on_demand.{n}.contact"] = "no such contact here"
    return problems


def _check_contact(caller, contact) -> None:
    if not known_contacts({contact}, caller.organisation_id):
        raise Invalid("The contact must be one of your organisation's (GET /api/contacts/).",
                      fields={"contact": "no such contact here"})


def _lock(tier) -> None:
    locked(OcsTier.select(OcsTier.id).where(OcsTier.id == tier.id)).first()
