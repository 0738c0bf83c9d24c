"""Organisations, their teams and who belongs to each team with which role."""
from __future__ import annotations

import peewee

from models.db import UtcDateTimeField, UUIDModel

ROLES = ("owner", "manager", "user")


class Organisation(UUIDModel):
    name = peewee.CharField(max_length=200)
    created_at = UtcDateTimeField()


class Team(UUIDModel):
    organisation = peewee.ForeignKeyField(Organisation, backref="teams", on_delete="CASCADE")
    name = peewee.CharField(max_length=200)
    created_at = UtcDateTimeField()


class Membership(UUIDModel):
    team = peewee.ForeignKeyField(Team, backref="memberships", on_delete="CASCADE")
    customer = peewee.DeferredForeignKey("Customer", backref="memberships", on_delete="CASCADE")
    role = peewee.CharField(max_length=16)
    joined_at = UtcDateTimeField()

    class Meta:
        indexes = ((("team", "customer"), True),)


def create_organisation(*, name: str, now) -> Organisation:
    return Organisation.create(name=name, created_at=now)


def create_team(organisation: Organisation, *, name: str, owner, now) -> Team:
    """A new team of `organisation` in which `owner` is the owner."""
    team = Team.create(organisation=organisation, name=name, created_at=now)
    Membership.create(team=team, customer=owner, role="owner", joined_at=now)
    return team


def teams_of(customer) -> list[tuple[Team, str]]:
    """The teams `customer` belongs to, oldest first, each with the customer's role in it."""
    rows = (Membership.select(Membership, Team)
            .join(Team)
            .where(Membership.customer == customer)
            .order_by(Team.created_at, Team.name))
    return [(row.team, row.role) for row in rows]
