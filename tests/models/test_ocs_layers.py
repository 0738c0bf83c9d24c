"""OCS layers read into the engine's objects: the seed's JSON strings and plain objects alike,
wall-clock starts in the layer's zone, and stored layers whose contacts left."""
from __future__ import annotations

import datetime as dt

import pytest

from models import clock
from models.accounts import Customer
from models.errors import Invalid
from models.oncall import engine
from models.oncall.contacts import ensure_contacts
from models.oncall.layers import customer_of_contact, on_demand_of, parse_layers, tier_layers
from models.oncall.tables import Contact, OcsSchedule, OcsTier, OnDemandShift
from tests.factories.accounts import make_customer
from tests.factories.oncall import contact_of, seed_layer
from tests.factories.organisations import make_cast

UTC = dt.timezone.utc


@pytest.fixture
def cast(settings):
    return make_cast(settings)


def test_json_strings_and_objects_give_the_same_layer(cast):
    alice = contact_of(cast.alice)
    restrictions = {"type": "weekly", "ranges": [
        {"start_time_of_day": "09:00", "duration_seconds": 8 * 3600, "start_day_of_week": 1}]}
    as_text = seed_layer([alice], rotation='{"type": "custom", "seconds": 7200}',
                         restrictions='{"type": "weekly", "ranges": [{"start_time_of_day": '
                                      '"09:00:00", "duration_seconds": 28800, '
                                      '"start_day_of_week": 1}]}')
    as_objects = seed_layer([alice], rotation={"type": "custom", "seconds": 7200},
                            restrictions=restrictions)
    organisation = cast.alice.organisation_id
    [one] = parse_layers([as_text], organisation_id=organisation)
    assert parse_layers([as_objects], organisation_id=organisation) == [one]
    assert one == engine.Layer(dt.datetime(2024, 11, 5, 13, tzinfo=UTC),
                               engine.Rotation("custom", 7200), (alice,), 0, "Europe/Berlin",
                               engine.Restrictions("weekly", (engine.Range(
                                   dt.time(9), 28800, 1),)))


def test_a_start_without_an_offset_is_wall_clock_in_the_layers_zone(cast):
    alice = contact_of(cast.alice)
    [layer] = parse_layers([seed_layer([alice], start="2025-07-01T09:00:00", index=4)],
                           organisation_id=cast.alice.organisation_id)
    assert layer.start_at == dt.datetime(2025, 7, 1, 7, tzinfo=UTC) and layer.index == 4
    [default] = parse_layers([{"start": "2025-07-01T09:00:00", "rotation": {"type": "daily"},
                               "contacts": [alice]}], organisation_id=cast.alice.organisation_id)
    assert (default.zone, default.index, default.restrictions) == ("UTC", 0, None)


@pytest.mark.parametrize("raw, fields", [
    ("layers", {"layers": "must be a list of layers"}),
    ([1], {"layers.0": "must be an object {start, rotation, restrictions, contacts, index, tz}"}),
    ([{}], {"layers.0.start": "is required", "layers.0.contacts":
            "must be a list of 1 to 100 contact ids", "layers.0.rotation":
            'is required: {"type": "daily"}, {"type": "weekly"} or {"type": "custom", '
            '"seconds": N}'}),
])
def test_what_is_no_layer_is_refused_field_by_field(cast, raw, fields):
    with pytest.raises(Invalid) as refused:
        parse_layers(raw, organisation_id=cast.alice.organisation_id)
    assert refused.value.fields == fields


def test_a_stored_layer_drops_a_contact_who_left_and_on_demand_shifts_read_back(cast, settings):
    alice, bob = contact_of(cast.alice), contact_of(cast.bob)
    now = clock.now()
    schedule = OcsSchedule.create(organisation=cast.alice.organisation_id, name="S",
                                  created_at=now, updated_at=now)
    tier = OcsTier.create(schedule=schedule, number=1, created_at=now, updated_at=now,
                          layers=[seed_layer([alice, bob]), seed_layer([bob], index=1)])
    shift = OnDemandShift.create(tier=tier, contact=bob, start_at=now,
                                 end_at=now + dt.timedelta(hours=1), created_at=now)
    assert [layer.contacts for layer in tier_layers(tier)] == [(alice, bob), (bob,)]
    assert on_demand_of(tier) == [engine.OnDemand(shift.id, bob, shift.start_at, shift.end_at)]
    assert customer_of_contact(bob) == cast.bob.id and customer_of_contact(10**6) is None
    Customer.delete().where(Customer.id == cast.bob.id).execute()
    assert [layer.contacts for layer in tier_layers(OcsTier.get_by_id(tier.id))] == [(alice,)]


def test_every_member_gets_one_contact_however_often_they_are_ensured(cast, settings):
    for _ in range(3):
        ensure_contacts(cast.alice.organisation_id)
    make_customer(settings)               # another organisation's member gets none of ours
    ensure_contacts(cast.alice.organisation_id)
    assert sorted(c.customer_id for c in Contact.select()) == sorted([cast.alice.id,
                                                                      cast.bob.id])
