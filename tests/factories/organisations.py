"""Teams, members and services for tests, and the cast of permission tests: Alice owns a team,
Bob is her teammate (with the role a test asks for), Charlie is in another organisation."""
from __future__ import annotations

import dataclasses
import itertools

from models import clock, organisations, services
from models.accounts import Caller, Customer
from models.organisations import Membership, Team
from tests.factories.accounts import make_customer, sign_in

_numbers = itertools.count(1)


def caller_of(customer) -> Caller:
    return Caller(customer=Customer.get_by_id(customer.id), session_id=None)


def first_team(customer) -> Team:
    return organisations.teams_of(customer)[0][0]


def make_team(owner, *, name: str | None = None) -> Team:
    return organisations.create_team(Customer.get_by_id(owner.id).organisation,
                                     name=name or f"Team {next(_numbers)}", owner=owner,
                                     now=clock.now())


def join(team, customer, role: str = "user") -> Membership:
    """Puts `customer` into `team` (and into its organisation, leaving their own)."""
    customer = Customer.get_by_id(customer.id)
    if customer.organisation_id != team.organisation_id:
        old = customer.organisation_id
        Customer.update(organisation=team.organisation_id).where(
            Customer.id == customer.id).execute()
        organisations.delete_organisation(old)
    return Membership.create(team=team, customer=customer, role=role, joined_at=clock.now())


def make_service(team, *, name: str | None = None):
    owner = Membership.get(Membership.team == team, Membership.role == "owner").customer
    return services.create_service(caller_of(owner), name=name or f"Service {next(_numbers)}",
                                   team_id=team.id, now=clock.now())


@dataclasses.dataclass
class Cast:
    alice: Customer
    bob: Customer
    charlie: Customer
    team: Team
    alice_token: str
    bob_token: str
    charlie_token: str


def make_cast(settings, *, bob_role: str = "user") -> Cast:
    alice, bob, charlie = (make_customer(settings, name=n) for n in ("Alice", "Bob", "Charlie"))
    team = first_team(alice)
    join(team, bob, bob_role)
    alice, bob = Customer.get_by_id(alice.id), Customer.get_by_id(bob.id)
    return Cast(alice, bob, charlie, team, sign_in(settings, alice).access_token,
                sign_in(settings, bob).access_token, sign_in(settings, charlie).access_token)
