"""On-call schedules for tests: team schedule entries, OCS schedules, layers and contacts;
plain functions with defaults and keyword overrides. The cast of the escalation and shift
notice tests (`make_people`) has personal channels and contacts, around `T0`."""
from __future__ import annotations

import datetime as dt
import itertools

from models import clock
from models.accounts import Customer
from models.channels import NotificationChannel
from models.oncall import team_schedules
from models.oncall.contacts import ensure_contacts
from models.oncall.tables import Contact, OcsSchedule, OcsTier, TeamScheduleEntry
from models.organisations import Membership
from tests.factories.accounts import bearer, make_customer
from tests.factories.organisations import caller_of, first_team, join

_numbers = itertools.count(1)
UTC = dt.timezone.utc


def at(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


# -- team schedules -----------------------------------------------------------------------------

def entry_fields(member, **overrides) -> dict:
    """The fields of an entry as the domain takes them: all of January 2024, all day."""
    return {"team_member_id": member.id, "start_date": at(2024, 1, 1),
            "end_date": at(2024, 2, 1), "months_of_year": None, "weeks_of_month": None,
            "week_days": None, "start_time": "00:00:00", "end_time": "23:59:59",
            "timezone": "UTC", **overrides}


def make_entry(team, member, *, by=None, now: dt.datetime | None = None, **overrides):
    """An entry of `team` for `member`, written by `by` (default: the team's owner)."""
    if by is None:
        by = Membership.get(Membership.team == team, Membership.role == "owner").customer
    return team_schedules.create_entry(caller_of(by), team.id, entry_fields(member, **overrides),
                                       now=now or clock.now())


# -- OCS ----------------------------------------------------------------------------------------

def contact_of(customer) -> int:
    """The contact id of `customer` (every member of their organisation gets one)."""
    organisation_id = Customer.get_by_id(customer.id).organisation_id
    ensure_contacts(organisation_id)
    return Contact.get(Contact.customer == customer.id).id


def seed_layer(contacts: list[int], **fields) -> dict:
    """A layer as the seed sends it: rotation and restrictions as JSON strings."""
    return {"start": "2024-11-05T13:00:00Z", "rotation": "{\"type\":\"daily\"}",
            "restrictions": "null", "contacts": contacts, "index": 0, "tz": "Europe/Berlin",
            **fields}


def make_schedule(client, token, **fields) -> dict:
    """A schedule made through the API, with the id of its tier 1 as `tier_id`."""
    response = client.simulate_post("/api/ocs/", headers=bearer(token),
                                    json={"name": f"Schedule {next(_numbers)}", **fields})
    assert response.status_code == 201, response.json
    schedule = response.json
    tiers = client.simulate_get("/api/ocs-tier/", params={"ocs": schedule["id"]},
                                headers=bearer(token)).json["results"]
    return {**schedule, "tier_id": tiers[0]["id"]}


def iso(instant: dt.datetime) -> str:
    return instant.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def hour_floor(instant: dt.datetime) -> dt.datetime:
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


# -- escalation and shift notices ---------------------------------------------------------

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)

DAY_BEFORE = "2026-11-30T09:00:00Z"


def channel(value: str, *, team=None, customer=None, priority: int, type="webhook"):
    return NotificationChannel.create(team=team, customer=customer, type=type, value=value,
                                      priority=priority, verified_at=T0, created_at=T0,
                                      updated_at=T0)


def make_people(settings):
    """Alice owns the team; Bob and Carol are in it; each has one personal channel."""
    alice = make_customer(settings, name="Alice")
    team = first_team(alice)
    bob, carol = (make_customer(settings, name=n) for n in ("Bob", "Carol"))
    for person in (bob, carol):
        join(team, person, "user")
    found = {}
    for person in (alice, bob, carol):
        channel(f"https://{person.name.lower()}.example/", customer=person, priority=1)
        found[person.name] = Contact.create(organisation=team.organisation_id, customer=person)
    return caller_of(alice), team, found


def schedule(team, tiers: list[list], *, loops: int = 1, email="ops@example.com", phone=None):
    """An OCS schedule whose tier n has one daily layer of the contacts `tiers[n-1]`, starting
    `DAY_BEFORE` (an empty list: a tier with no layer)."""
    made = OcsSchedule.create(organisation=team.organisation_id, name="Primary",
                              default_email=email, default_phone=phone, escalation_loops=loops,
                              created_at=T0, updated_at=T0)
    for number, contacts in enumerate(tiers, start=1):
        layers = [{"start": DAY_BEFORE, "rotation": '{"type":"daily"}', "restrictions": "null",
                   "contacts": [c.id for c in contacts], "index": 0, "tz": "UTC"}] \
            if contacts else []
        OcsTier.create(schedule=made, number=number, layers=layers, created_at=T0,
                       updated_at=T0)
    return made


def entry(team, person, **fields):
    values = {"start_date": T0 - dt.timedelta(days=1), "end_date": T0 + dt.timedelta(days=30),
              "start_time": "00:00:00", "end_time": "23:59:59", "timezone": "UTC",
              "created_at": T0 - dt.timedelta(days=1), "updated_at": T0, **fields}
    return TeamScheduleEntry.create(team=team, customer=person, **values)
