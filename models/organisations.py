"""Organisations, their teams, and who belongs to each team with which role.

Roles mean: `user` reads, `manager` also changes the team's configuration (services, channels,
monitors) and sees its secrets (push keys, signing secrets, webhook URLs), `owner` also manages
members and the team itself; creating a team takes an owner of one of the organisation's teams.
A team always keeps an owner.
Access is by membership: a team the caller does not belong to is not found, whichever
organisation it is in. An API key (`models.api_keys`) holds one role, `user` or `manager`, in
every team of its organisation; the access functions below answer for it too.
"""
from __future__ import annotations

import peewee

from models import plans
from models.db import UtcDateTimeField, UUIDModel, database, locked, serialized
from models.errors import Conflict, Forbidden, NotFound

ROLES = ("owner", "manager", "user")
_RANK = {"user": 0, "manager": 1, "owner": 2}


class Organisation(UUIDModel):
    name = peewee.CharField(max_length=200)
    plan = peewee.CharField(max_length=32, default=plans.DEFAULT_PLAN[0])
    plan_version = peewee.CharField(max_length=16, default=plans.DEFAULT_PLAN[1])
    # a plan granted for a time (a voucher's): until then; then back to `plan_after`
    plan_until = UtcDateTimeField(null=True, index=True)
    plan_after = peewee.CharField(max_length=32, null=True)
    plan_after_version = peewee.CharField(max_length=16, null=True)
    # billing (PINGHOME_BILLING=stripe): its Stripe customer and subscription; after a failed
    # payment the plan holds until `grace_until`, then falls to free; one trial per organisation
    stripe_customer_id = peewee.CharField(max_length=255, null=True, unique=True)
    stripe_subscription_id = peewee.CharField(max_length=255, null=True)
    grace_until = UtcDateTimeField(null=True, index=True)
    trial_used = peewee.BooleanField(default=False)
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


def create_organisation(*, name: str, plan: tuple[str, str], now) -> Organisation:
    """A new organisation on `plan` (name, version): the settings' default plan at sign-up."""
    return Organisation.create(name=name, plan=plan[0], plan_version=plan[1], created_at=now)


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


# -- access -------------------------------------------------------------------------------
#
# Every question about what a caller may do is answered here, for people (by their memberships)
# and for API keys (`api_keys.KeyCaller`: the key's one role in every team of its organisation,
# never owner), so no other module looks at memberships to decide access.

def caller_teams(caller) -> list[tuple[Team, str]]:
    """`teams_of` for a caller: a key's are all the teams of its organisation."""
    if caller.key_role is None:
        return teams_of(caller.customer)
    return [(team, caller.key_role) for team in Team.select()
            .where(Team.organisation == caller.organisation_id)
            .order_by(Team.created_at, Team.name)]


def best_role(caller) -> str | None:
    """The highest role the caller holds in any team of its organisation (None: in none)."""
    roles = [role for _, role in caller_teams(caller)]
    return max(roles, key=_RANK.__getitem__, default=None)


def membership(caller, team_id) -> Membership:
    """The caller's membership of `team_id`; `NotFound` for a team the caller is not in. A
    key's is not stored: it holds its role in every team of its organisation."""
    if caller.key_role is not None:
        team = Team.get_or_none(Team.id == team_id, Team.organisation == caller.organisation_id)
        if team is None:
            raise NotFound("No such team.")
        return Membership(team=team, role=caller.key_role)
    found = (Membership.select(Membership, Team).join(Team)
             .where(Membership.team == team_id, Membership.customer == caller.customer.id)
             .first())
    if found is None:
        raise NotFound("No such team.")
    return found


def team_for(caller, team_id, role: str = "user") -> Team:
    """The team `team_id` if the caller holds at least `role` in it (`Forbidden` otherwise)."""
    return team_and_role(caller, team_id, role)[0]


def team_and_role(caller, team_id, role: str = "user") -> tuple[Team, str]:
    """`team_for`, with the role the caller holds in the team."""
    found = membership(caller, team_id)
    if not outranks(found.role, role):
        held = "you are" if caller.key_role is None else "this API key acts as"
        raise Forbidden(f"This needs the {role} role in team '{found.team.name}'; {held} "
                        f"{found.role}.", code="role_required")
    return found.team, found.role


def outranks(held: str, needed: str) -> bool:
    """Whether the role `held` includes what `needed` may do."""
    return _RANK[held] >= _RANK[needed]


def holds_role(caller, team_id, role: str) -> bool:
    """Whether the caller holds at least `role` in team `team_id` (False if not a member)."""
    if caller.key_role is not None:
        return outranks(caller.key_role, role) and Team.select().where(
            Team.id == team_id, Team.organisation == caller.organisation_id).exists()
    found = (Membership.select(Membership.role)
             .where(Membership.team == team_id, Membership.customer == caller.customer.id)
             .first())
    return found is not None and outranks(found.role, role)


def ensure_owner_of_a_team(caller, what: str) -> None:
    """What concerns the whole organisation (a new team, an organisation's ruleset) takes an
    owner of one of its teams; `Forbidden` for anyone else (an API key is never an owner)."""
    ensure_role_in_a_team(caller, "owner", what)


def ensure_role_in_a_team(caller, role: str, what: str) -> None:
    """`Forbidden` unless the caller holds at least `role` in one of the organisation's
    teams (an organisation's status pages and on-call schedules take a manager)."""
    held = best_role(caller)
    if held is None or not outranks(held, role):
        ask = "ask an owner" if role == "owner" else "ask an owner for the role"
        raise Forbidden(f"{what} needs the {role} role in one of the organisation's teams; "
                        f"{ask}.", code="role_required")


# -- teams --------------------------------------------------------------------------------

def add_team(caller, *, name: str, now) -> Team:
    """Creates a team in the caller's organisation with the caller as its owner. Only an
    owner of one of the organisation's teams may (`Forbidden` otherwise): a `user` or
    `manager` would make themself an owner of something new."""
    organisation = Organisation.get_by_id(caller.organisation_id)
    ensure_owner_of_a_team(caller, "Creating a team")
    with serialized():
        from models import usage   # (it counts teams: imports this module)
        usage.ensure_room(organisation, "teams")
        return create_team(organisation, name=name, owner=caller.customer, now=now)


def list_teams(caller) -> list[tuple[Team, str, int]]:
    """The caller's teams with the caller's role and the number of members, oldest first."""
    teams = caller_teams(caller)
    counts = dict(Membership.select(Membership.team, peewee.fn.COUNT(Membership.id))
                  .where(Membership.team.in_([t.id for t, _ in teams]))
                  .group_by(Membership.team).tuples())
    return [(team, role, counts.get(team.id, 0)) for team, role in teams]


def rename_team(caller, team_id, *, name: str) -> tuple[Team, str, int]:
    """Renames the team (managers and owners); answers it as `list_teams` does."""
    team = team_for(caller, team_id, "manager")
    Team.update(name=name).where(Team.id == team.id).execute()
    return next(found for found in list_teams(caller) if found[0].id == team.id)


def delete_team(caller, team_id) -> None:
    """Deletes a team with its memberships, channels and invitations. Refused (409) while it
    owns services, and for the organisation's last team: nothing is deleted silently."""
    team = team_for(caller, team_id, "owner")
    with serialized():
        if team.services.exists():
            raise Conflict(f"Team '{team.name}' still owns services; delete them or move their "
                           "monitors first.", code="team_not_empty")
        if Team.select().where(Team.organisation == team.organisation_id).count() == 1:
            raise Conflict("This is the organisation's last team; an organisation keeps at "
                           "least one.", code="last_team")
        Team.delete().where(Team.id == team.id).execute()


# -- members ------------------------------------------------------------------------------

def list_members(caller, team_id) -> list[Membership]:
    team = team_for(caller, team_id, "user")
    return list(Membership.select().where(Membership.team == team)
                .order_by(Membership.joined_at))


def remove_member(caller, team_id, member_id) -> None:
    """Owners remove members; anyone may leave. The last owner can do neither."""
    own = membership(caller, team_id)
    if str(member_id) != str(caller.customer.id):
        team_for(caller, team_id, "owner")
    with serialized():
        _lock(own.team)
        target = _member(own.team, member_id)
        _keep_an_owner(own.team, target, leaving=True)
        Membership.delete().where(Membership.id == target.id).execute()


def update_member(caller, team_id, member_id, *, role: str | None, new_team_id, now) -> Membership:
    """Changes a member's role and/or moves them to another team of the organisation (where
    the caller must be an owner too). The last owner cannot be demoted or moved away."""
    team = team_for(caller, team_id, "owner")
    destination = team_for(caller, new_team_id, "owner") if new_team_id else team
    with serialized():
        _lock(team)
        target = _member(team, member_id)
        role = role or target.role
        leaving = destination.id != team.id
        if leaving or role != "owner":
            _keep_an_owner(team, target, leaving=leaving)
        if not leaving:
            Membership.update(role=role).where(Membership.id == target.id).execute()
            return Membership.get_by_id(target.id)
        if Membership.select().where(Membership.team == destination,
                                     Membership.customer == target.customer_id).exists():
            raise Conflict("This member already belongs to the destination team.",
                           code="already_member")
        Membership.delete().where(Membership.id == target.id).execute()
        return Membership.create(team=destination, customer=target.customer_id, role=role,
                                 joined_at=now)


def _lock(team) -> None:
    """Every change to a team's members locks the team's row first, so two owners demoting
    each other at once cannot leave the team without one."""
    locked(Team.select(Team.id).where(Team.id == team.id)).first()


def _member(team, member_id) -> Membership:
    found = Membership.get_or_none(Membership.team == team, Membership.customer == member_id)
    if found is None:
        raise NotFound("No such member in this team.")
    return found


def _keep_an_owner(team, target: Membership, *, leaving: bool) -> None:
    if target.role != "owner":
        return
    owners = Membership.select().where(Membership.team == team,
                                       Membership.role == "owner").count()
    if owners <= 1:
        action = "removed or moved" if leaving else "demoted"
        raise Conflict(f"The last owner of team '{team.name}' cannot be {action}; make another "
                       "member an owner first.", code="last_owner")


def organisation_members(organisation_id) -> peewee.ModelSelect:
    """Every membership in the organisation's teams (a customer once per team)."""
    return Membership.select().join(Team).where(Team.organisation == organisation_id)


def is_member_of_organisation(customer_id, organisation_id) -> bool:
    return organisation_members(organisation_id).where(
        Membership.customer == customer_id).exists()


def delete_organisation(organisation_id) -> None:
    with database.atomic():
        Organisation.delete().where(Organisation.id == organisation_id).execute()
