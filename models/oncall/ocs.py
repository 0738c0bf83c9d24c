"""OCS schedules and their tiers (endpoints 126-127, 134-137, 139-142, 144).

Access: everyone in the organisation reads every schedule, tier and on-demand shift of it;
changing them (creating, updating, deleting, on-demand shifts too) takes the manager or owner
role in one of the organisation's teams (`Forbidden` for a `user`). Another organisation's ids
are `NotFound`, like ids that do not exist.

A schedule is created with tier 1 (no layers); `PATCH /api/ocs-tier/{ocs}_{n}/` creates tier n
when it is missing. Deleting a schedule deletes its tiers and their on-demand shifts. Every
change to a schedule, its tiers or their on-demand shifts stamps the schedule's `updated_by`
and `updated_at`.
"""
from __future__ import annotations

import re

import peewee

from models import organisations
from models.accounts import Customer
from models.db import database, locked, serialized
from models.errors import Conflict, Invalid, NotFound
from models.oncall import feeds, rosters, shift_notices
from models.oncall import layers as layer_parser
from models.oncall.layers import MAX_TIERS, is_id     # tier numbers 1 to MAX_TIERS
from models.oncall.tables import OcsSchedule, OcsTier, OnDemandShift

SCHEDULE_FIELDS = ("customer", "name", "default_email", "default_phone", "escalation_loops")
_COMPOSITE = re.compile(r"^(\d{1,10})_(\d{1,10})$")


# -- access -----------------------------------------------------------------------------------

def ensure_writer(caller) -> None:
    """Changing the organisation's OCS schedules takes a manager or owner of one of its teams."""
    organisations.ensure_role_in_a_team(caller, "manager", "Changing on-call schedules")


def schedule_for(caller, schedule_id) -> OcsSchedule:
    """The caller's organisation's schedule; `NotFound` for any other id."""
    found = (OcsSchedule.get_or_none(OcsSchedule.id == schedule_id,
                                     OcsSchedule.organisation == caller.organisation_id)
             if is_id(schedule_id) else None)
    if found is None:
        raise NotFound("No such on-call schedule.")
    return found


def tier_ref(ref) -> tuple[int | None, int | None, int | None]:
    """(tier id, None, None) for `12`, (None, schedule id, number) for `"3_2"`; all None for
    anything else."""
    text = str(ref)
    if text.isdigit() and len(text) <= 10 and is_id(int(text)):
        return int(text), None, None
    matched = _COMPOSITE.match(text)
    if matched and is_id(int(matched[1])) and is_id(int(matched[2])):
        return None, int(matched[1]), int(matched[2])
    return None, None, None


def tier_for(caller, ref) -> OcsTier:
    """The tier named by its id or by `{schedule id}_{number}`, of the caller's organisation;
    `NotFound` otherwise."""
    tier_id, schedule_id, number = tier_ref(ref)
    query = OcsTier.select(OcsTier, OcsSchedule).join(OcsSchedule).where(
        OcsSchedule.organisation == caller.organisation_id)
    if tier_id is not None:
        found = query.where(OcsTier.id == tier_id).first()
    elif schedule_id is not None:
        found = query.where(OcsTier.schedule == schedule_id, OcsTier.number == number).first()
    else:
        found = None
    if found is None:
        raise NotFound("No such tier.")
    return found


# -- schedules --------------------------------------------------------------------------------

def list_schedules(caller) -> list[OcsSchedule]:
    """The organisation's schedules, oldest first (each with its customer)."""
    return list(OcsSchedule.select(OcsSchedule, Customer)
                .join(Customer, peewee.JOIN.LEFT_OUTER, on=OcsSchedule.customer)
                .where(OcsSchedule.organisation == caller.organisation_id)
                .order_by(OcsSchedule.id))


def count_schedules(caller) -> int:
    return OcsSchedule.select().where(OcsSchedule.organisation == caller.organisation_id).count()


def create_schedule(caller, fields: dict, *, now) -> OcsSchedule:
    """A schedule with its tier 1 (no layers yet). `customer` (whom it is for; default the
    caller; an API key must name one) must be a member of the organisation."""
    ensure_writer(caller)
    if not fields.get("customer") and caller.actor_id is None:
        raise Invalid("An API key is no one to be on call: name the schedule's customer.",
                      fields={"customer": "required with an API key"})
    fields = {**fields, "customer": fields.get("customer") or caller.actor_id}
    _check_customer(caller, fields["customer"])
    with database.atomic():
        schedule = OcsSchedule.create(
            organisation=caller.organisation_id, created_by=caller.actor_id,
            updated_by=caller.actor_id, created_at=now, updated_at=now,
            **{name: value for name, value in fields.items() if name in SCHEDULE_FIELDS})
        OcsTier.create(schedule=schedule, number=1, layers=[], created_at=now, updated_at=now)
    return schedule


def update_schedule(caller, schedule_id, fields: dict, *, now) -> OcsSchedule:
    """Changes the given fields; the others stay. `customer: null` leaves it for nobody."""
    schedule = schedule_for(caller, schedule_id)
    ensure_writer(caller)
    if fields.get("customer") is not None:
        _check_customer(caller, fields["customer"])
    changes = {name: value for name, value in fields.items() if name in SCHEDULE_FIELDS}
    OcsSchedule.update(**changes, updated_by=caller.actor_id, updated_at=now).where(
        OcsSchedule.id == schedule.id).execute()
    return OcsSchedule.get_by_id(schedule.id)


def delete_schedule(caller, schedule_id) -> None:
    """Deletes the schedule with its tiers and their on-demand shifts. Incidents and rulesets
    that name it as an assignee keep the name; nobody is on call for it any more."""
    schedule = schedule_for(caller, schedule_id)
    ensure_writer(caller)
    with database.atomic():
        tiers = OcsTier.select(OcsTier.id).where(OcsTier.schedule == schedule.id)
        OnDemandShift.delete().where(OnDemandShift.tier.in_(tiers)).execute()
        OcsTier.delete().where(OcsTier.schedule == schedule.id).execute()
        OcsSchedule.delete().where(OcsSchedule.id == schedule.id).execute()


def touch(schedule_id, caller, *, now) -> None:
    """A change to a schedule's tiers or shifts is a change to the schedule."""
    OcsSchedule.update(updated_by=caller.actor_id, updated_at=now).where(
        OcsSchedule.id == schedule_id).execute()


def schedules_by_id(ids, organisation_id) -> set[int]:
    """Those of `ids` that are the organisation's schedules (incident assignees)."""
    ids = [i for i in ids if is_id(i)]
    if not ids:
        return set()
    return {i for (i,) in OcsSchedule.select(OcsSchedule.id).where(
        OcsSchedule.id.in_(ids), OcsSchedule.organisation == organisation_id).tuples()}


def _check_customer(caller, customer_id) -> None:
    if not Customer.select().where(Customer.id == customer_id,
                                   Customer.organisation == caller.organisation_id).exists():
        raise Invalid("The schedule's customer must be a member of your organisation.",
                      fields={"customer": "no such customer here"})


# -- tiers ------------------------------------------------------------------------------------

def list_tiers(caller, *, schedule_id=None) -> list[OcsTier]:
    """The organisation's tiers (of one schedule if given: another organisation's or an
    unknown schedule has none), by schedule and number."""
    return list(_tiers(caller, schedule_id).order_by(OcsTier.schedule, OcsTier.number))


def count_tiers(caller, *, schedule_id=None) -> int:
    return _tiers(caller, schedule_id).count()


def _tiers(caller, schedule_id):
    query = (OcsTier.select(OcsTier, OcsSchedule).join(OcsSchedule)
             .where(OcsSchedule.organisation == caller.organisation_id))
    return query.where(OcsTier.schedule == schedule_id) if schedule_id is not None else query


def tiers_of(schedule) -> list[OcsTier]:
    """A schedule's tiers in escalation order."""
    return list(OcsTier.select().where(OcsTier.schedule == schedule.id).order_by(OcsTier.number))


def update_tier(caller, ref, fields: dict, *, now) -> OcsTier:
    """PUT: `layers` replaces the stored layers; `number` renumbers the tier and `ocs` moves
    it to another schedule of the organisation (409 when that number is taken there)."""
    tier = tier_for(caller, ref)
    ensure_writer(caller)
    changes = {}
    if fields.get("layers") is not None:
        changes["layers"] = _checked_layers(caller, fields["layers"])
    if fields.get("ocs") is not None and fields["ocs"] != tier.schedule_id:
        try:
            changes["schedule"] = schedule_for(caller, fields["ocs"]).id
        except NotFound:
            raise Invalid("No such on-call schedule.", fields={"ocs": "no such schedule here"}) \
                from None
    if fields.get("number") is not None:
        changes["number"] = fields["number"]
    with serialized(), shift_notices.changes_told(rosters.tier_roster(tier), now=now):
        schedule_id = changes.get("schedule", tier.schedule_id)
        number = changes.get("number", tier.number)
        taken = OcsTier.select().where(OcsTier.schedule == schedule_id, OcsTier.number == number,
                                       OcsTier.id != tier.id).exists()
        if taken:
            raise Conflict(f"Schedule {schedule_id} has a tier {number} already.",
                           fields={"number": "taken in this schedule"}, code="tier_taken")
        OcsTier.update(**changes, updated_at=now).where(OcsTier.id == tier.id).execute()
        touch(tier.schedule_id, caller, now=now)
        if schedule_id != tier.schedule_id:
            touch(schedule_id, caller, now=now)
    return OcsTier.get_by_id(tier.id)


def patch_tier(caller, ref, *, layers: list | None, on_demand: list | None, now):
    """PATCH: `layers` (when given) replaces the stored layers; `on_demand` (when given and not
    empty) replaces the tier's on-demand shifts (see `on_demand.replace_shifts`). A
    `{schedule}_{n}` id of a tier that does not exist yet creates tier n. Answers the tier and
    whether it was created."""
    from models.oncall import on_demand as shifts      # on_demand builds on this module
    tier, created = _tier_or_new(caller, ref, now=now)
    ensure_writer(caller)
    stored = _checked_layers(caller, layers) if layers is not None else None
    with serialized():
        if created:
            tier = _create_tier(tier.schedule_id, tier.number, now=now)
        with shift_notices.changes_told(rosters.tier_roster(tier), now=now):
            if stored is not None:
                OcsTier.update(layers=stored, updated_at=now).where(
                    OcsTier.id == tier.id).execute()
            if on_demand:
                shifts.replace_shifts(caller, tier, on_demand, now=now)
        touch(tier.schedule_id, caller, now=now)
    return OcsTier.get_by_id(tier.id), created


def tier_to_compute(caller, ref) -> OcsTier | None:
    """compute_tier's tier: an existing one, or None for `{schedule}_{n}` of a tier not made
    yet in a schedule of the organisation (a preview before the PATCH that creates it)."""
    try:
        return tier_for(caller, ref)
    except NotFound:
        _, schedule_id, number = tier_ref(ref)
        if schedule_id is None or not 1 <= number <= MAX_TIERS:
            raise
        schedule_for(caller, schedule_id)
        return None


def _tier_or_new(caller, ref, *, now) -> tuple[OcsTier, bool]:
    try:
        return tier_for(caller, ref), False
    except NotFound:
        _, schedule_id, number = tier_ref(ref)
        if schedule_id is None:
            raise
        schedule = schedule_for(caller, schedule_id)
        if not 1 <= number <= MAX_TIERS:
            raise Invalid(f"Tier numbers go from 1 to {MAX_TIERS}.",
                          fields={"id": f"tier number from 1 to {MAX_TIERS}"}) from None
        return OcsTier(schedule=schedule.id, number=number), True


def _create_tier(schedule_id, number: int, *, now) -> OcsTier:
    """Tier `number` of the schedule, made now unless a concurrent request made it first."""
    locked(OcsSchedule.select(OcsSchedule.id).where(OcsSchedule.id == schedule_id)).first()
    OcsTier.insert(schedule=schedule_id, number=number, layers=[], created_at=now,
                   updated_at=now).on_conflict_ignore().execute()
    return OcsTier.get(OcsTier.schedule == schedule_id, OcsTier.number == number)


def _checked_layers(caller, raw: list) -> list[dict]:
    layer_parser.parse_layers(raw, organisation_id=caller.organisation_id)
    return layer_parser.stored_form(raw)



def schedule_feed(caller, schedule_id, *, replace: bool, settings, now) -> str:
    """The token of the schedule's calendar feed (every tier's shifts): anyone of the
    organisation gets it, managers and owners replace it (`replace`), which ends the
    previous address."""
    schedule = schedule_for(caller, schedule_id)
    if replace:
        ensure_writer(caller)
    issue = feeds.replace_token if replace else feeds.token_for
    return issue(schedule.organisation_id, "ocs", schedule.id, settings=settings, now=now)
