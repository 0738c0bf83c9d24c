"""On-call schedules for tests: team schedule entries, OCS schedules, layers and contacts;
plain functions with defaults and keyword overrides."""
from __future__ import annotations

import datetime as dt
import itertools

from models import clock
from models.accounts import Customer
from models.oncall import team_schedules
from models.oncall.contacts import ensure_contacts
from models.oncall.tables import Contact
from models.organisations import Membership
from tests.factories.accounts import bearer
from tests.factories.organisations import caller_of

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
