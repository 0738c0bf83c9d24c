"""Vouchers (endpoint 125): single-use codes an operator makes (`pinghome voucher create`)
that put an organisation on a plan for some months, with billing on or off.

A code looks like `AAACCCBBDD-CSSSS1`: ten and six capitals and digits from an alphabet
without look-alikes (no 0/O, 1/I), compared in upper case. Applying one takes it with a
conditional update, so of two owners applying it at once exactly one wins. The organisation
is on the voucher's plan until `plan_until` (a second voucher for the same plan extends
it), then back on the plan it had before (`end_expired`, the scheduler's, every minute).
A voucher not applied by its `expires_at` is void.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
import secrets
import uuid

import peewee

from models import organisations, plans
from models.db import UtcDateTimeField, UUIDModel, serialized
from models.errors import Conflict, Gone, NotFound
from models.organisations import Organisation

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PATTERN = re.compile(r"^[A-Z0-9]{10}-[A-Z0-9]{6}$")
VALID_DAYS = 365          # how long a voucher may wait to be applied, unless told otherwise


class Voucher(UUIDModel):
    code = peewee.CharField(max_length=17, unique=True)
    plan = peewee.CharField(max_length=32)
    plan_version = peewee.CharField(max_length=16)
    months = peewee.IntegerField()
    created_at = UtcDateTimeField()
    expires_at = UtcDateTimeField()
    used_by = peewee.ForeignKeyField(Organisation, null=True, on_delete="SET NULL")
    used_at = UtcDateTimeField(null=True)


def create_vouchers(*, plan: tuple[str, str], months: int, count: int = 1,
                    code: str | None = None, valid_days: int = VALID_DAYS, now) -> list[str]:
    """Makes `count` new vouchers (or the one `code`) for `plan` and `months`; answers their
    codes. `ValueError` for a malformed code, a plan not in the catalogue or a bad count;
    `Conflict` for a code that exists."""
    plans.limits(*plan)
    if not 1 <= months <= 120 or not 1 <= count <= 10_000 or (code and count != 1):
        raise ValueError("months must be 1-120 and count 1-10,000 (1 with --code)")
    codes = [code.strip().upper()] if code else [_new_code() for _ in range(count)]
    if any(not PATTERN.match(c) for c in codes):
        raise ValueError("a code looks like AAACCCBBDD-CSSSS1 (10 and 6 capitals or digits)")
    with serialized():
        if Voucher.select().where(Voucher.code.in_(codes)).exists():
            raise Conflict("That code exists already.", fields={"code": "taken"})
        Voucher.insert_many([{"id": uuid.uuid4(), "code": c, "plan": plan[0],
                              "plan_version": plan[1], "months": months, "created_at": now,
                              "expires_at": now + dt.timedelta(days=valid_days)}
                             for c in codes]).execute()
    return codes


def apply_voucher(caller, code: str, *, now) -> Organisation:
    """Puts the caller's organisation (an owner's) on the voucher's plan for its months.
    `NotFound` for an unknown code, `Gone` for one past its date, `Conflict` for one used."""
    organisations.ensure_owner_of_a_team(caller, "Applying a voucher")
    voucher = Voucher.get_or_none(Voucher.code == code.strip().upper())
    if voucher is None:
        raise NotFound("No such voucher.", code="unknown_voucher")
    if voucher.used_at is not None:
        raise Conflict("This voucher has been used.", code="voucher_used")
    if voucher.expires_at <= now:
        raise Gone("This voucher has expired.", code="voucher_expired")
    with serialized():
        taken = (Voucher.update(used_by=caller.organisation_id, used_at=now)
                 .where(Voucher.id == voucher.id, Voucher.used_at.is_null()).execute())
        if not taken:
            raise Conflict("This voucher has been used.", code="voucher_used")
        organisation = Organisation.get_by_id(caller.organisation_id)
        granted = (voucher.plan, voucher.plan_version)
        extending = (organisation.plan_until is not None and organisation.plan_until > now
                     and (organisation.plan, organisation.plan_version) == granted)
        start = organisation.plan_until if extending else now
        changes = {"plan": granted[0], "plan_version": granted[1],
                   "plan_until": add_months(start, voucher.months)}
        if organisation.plan_until is None:      # what it goes back to: the plan before any
            changes.update(plan_after=organisation.plan,
                           plan_after_version=organisation.plan_version)
        Organisation.update(**changes).where(Organisation.id == organisation.id).execute()
    return Organisation.get_by_id(organisation.id)


def end_expired(*, now) -> int:
    """Puts the organisations whose granted plan ran out back on the plan they had; answers
    how many."""
    ended = 0
    for organisation in Organisation.select().where(Organisation.plan_until <= now):
        ended += (Organisation.update(plan=organisation.plan_after or plans.DEFAULT_PLAN[0],
                                      plan_version=organisation.plan_after_version
                                      or plans.DEFAULT_PLAN[1],
                                      plan_until=None, plan_after=None, plan_after_version=None)
                  .where(Organisation.id == organisation.id,
                         Organisation.plan_until == organisation.plan_until).execute())
    return ended


def add_months(at: dt.datetime, months: int) -> dt.datetime:
    """`at` moved on by calendar months (31 January + 1 month: the last day of February)."""
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    return at.replace(year=year, month=month,
                      day=min(at.day, calendar.monthrange(year, month)[1]))


def _new_code() -> str:
    pick = "".join(secrets.choice(ALPHABET) for _ in range(16))
    return f"{pick[:10]}-{pick[10:]}"
