"""On-call rosters for tests: a cast with personal channels and contacts, OCS schedules of
daily layers, team schedule entries. Times are around `T0` of the incident notice tests."""
from __future__ import annotations

import datetime as dt

from models.channels import NotificationChannel
from models.oncall.tables import Contact, OcsSchedule, OcsTier, TeamScheduleEntry
from tests.factories.accounts import make_customer
from tests.factories.organisations import caller_of, first_team, join

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
