"""The rotation engine, as tables: layers, overrides, entries and windows, and the shifts they
give. Every expected instant is written out (UTC); none is recomputed with the engine's logic."""
from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo

import pytest

from models.oncall import wallclock
from models.oncall.engine import (
    Computed, ContactStats, Layer, OnDemand, Range, Recurrence, Restrictions, Rotation, Shift,
    compute_tier, contact_stats, gaps, layer_shifts, merge, on_call_at, recurrence_shifts,
    tier_timeline)

UTC = dt.timezone.utc
DAILY, WEEKLY = Rotation("daily"), Rotation("weekly")


def at(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def custom(seconds: int) -> Rotation:
    return Rotation("custom", seconds)


def daily_range(hour: int, minute: int, seconds: int) -> Restrictions:
    return Restrictions("daily", (Range(dt.time(hour, minute), seconds),))


def weekly_range(day: int, hour: int, seconds: int) -> Restrictions:
    return Restrictions("weekly", (Range(dt.time(hour), seconds, day),))


def spans(shifts) -> list[tuple]:
    return [(shift.contact, shift.start_at, shift.end_at) for shift in shifts]


# Rotations.

ROTATIONS = [
    pytest.param(
        Layer(at(2025, 1, 1, 9), DAILY, ("a",), 0), at(2025, 1, 1), at(2025, 1, 4),
        [("a", at(2025, 1, 1, 9), at(2025, 1, 4))],
        id="one contact daily is one shift from the layer's start"),
    pytest.param(
        Layer(at(2025, 1, 1, 9), DAILY, ("a", "b"), 0), at(2025, 1, 2), at(2025, 1, 4, 12),
        [("a", at(2025, 1, 2), at(2025, 1, 2, 9)), ("b", at(2025, 1, 2, 9), at(2025, 1, 3, 9)),
         ("a", at(2025, 1, 3, 9), at(2025, 1, 4, 9)), ("b", at(2025, 1, 4, 9), at(2025, 1, 4, 12))],
        id="two contacts daily take turns at the start's time of day"),
    pytest.param(
        Layer(at(2025, 1, 6, 10), WEEKLY, ("a", "b", "c"), 0), at(2025, 1, 20), at(2025, 2, 10),
        [("b", at(2025, 1, 20), at(2025, 1, 20, 10)),
         ("c", at(2025, 1, 20, 10), at(2025, 1, 27, 10)),
         ("a", at(2025, 1, 27, 10), at(2025, 2, 3, 10)),
         ("b", at(2025, 2, 3, 10), at(2025, 2, 10))],
        id="three contacts weekly hand over every seventh day"),
    pytest.param(
        Layer(at(2025, 1, 1, 6), custom(8 * 3600), ("a", "b", "c"), 0), at(2025, 1, 1),
        at(2025, 1, 2, 12),
        [("a", at(2025, 1, 1, 6), at(2025, 1, 1, 14)),
         ("b", at(2025, 1, 1, 14), at(2025, 1, 1, 22)),
         ("c", at(2025, 1, 1, 22), at(2025, 1, 2, 6)),
         ("a", at(2025, 1, 2, 6), at(2025, 1, 2, 12))],
        id="custom eight hour turns and nothing before the layer's start"),
    pytest.param(
        Layer(at(2025, 1, 1), custom(12 * 3600), ("a", "b"), 0), at(2025, 1, 3, 6),
        at(2025, 1, 4),
        [("a", at(2025, 1, 3, 6), at(2025, 1, 3, 12)), ("b", at(2025, 1, 3, 12), at(2025, 1, 4))],
        id="custom twelve hour turns cut by the window"),
    pytest.param(
        Layer(at(2025, 1, 1), DAILY, ("a", "a", "b"), 0), at(2025, 1, 1), at(2025, 1, 7),
        [("a", at(2025, 1, 1), at(2025, 1, 3)), ("b", at(2025, 1, 3), at(2025, 1, 4)),
         ("a", at(2025, 1, 4), at(2025, 1, 6)), ("b", at(2025, 1, 6), at(2025, 1, 7))],
        id="a contact's consecutive turns merge into one shift"),
    pytest.param(
        Layer(at(2020, 1, 1), DAILY, ("a", "b", "c"), 0), at(2025, 6, 15), at(2025, 6, 16, 12),
        [("a", at(2025, 6, 15), at(2025, 6, 16)), ("b", at(2025, 6, 16), at(2025, 6, 16, 12))],
        id="a window 1992 days after the start is turn 1992"),
    pytest.param(
        Layer(at(2025, 1, 1, 9), DAILY, ("a", "b"), 0), at(2025, 1, 1, 12), at(2025, 1, 2, 10),
        [("a", at(2025, 1, 1, 12), at(2025, 1, 2, 9)),
         ("b", at(2025, 1, 2, 9), at(2025, 1, 2, 10))],
        id="the window cuts the shifts that cross either end"),
    pytest.param(
        Layer(at(2025, 2, 1), DAILY, ("a", "b"), 0), at(2025, 1, 1), at(2025, 1, 31),
        [], id="a window before the layer's start is empty"),
]


@pytest.mark.parametrize("layer, since, until, expected", ROTATIONS)
def test_a_rotation_gives_each_contact_its_turns(layer, since, until, expected):
    found = layer_shifts(layer, since, until)
    assert spans(found) == expected
    assert all(shift.index == 0 and shift.override is None for shift in found)


# Restrictions.

RESTRICTED = [
    pytest.param(
        Layer(at(2025, 1, 1), DAILY, ("a",), 0, restrictions=daily_range(22, 0, 9 * 3600)),
        at(2025, 1, 1), at(2025, 1, 3),
        [("a", at(2025, 1, 1), at(2025, 1, 1, 7)), ("a", at(2025, 1, 1, 22), at(2025, 1, 2, 7)),
         ("a", at(2025, 1, 2, 22), at(2025, 1, 3))],
        id="a daily range from 22:00 for nine hours runs across midnight"),
    pytest.param(
        Layer(at(2025, 1, 1), DAILY, ("a",), 0, "Europe/Berlin",
              restrictions=daily_range(22, 0, 9 * 3600)),
        at(2025, 1, 1), at(2025, 1, 3),
        [("a", at(2025, 1, 1), at(2025, 1, 1, 6)), ("a", at(2025, 1, 1, 21), at(2025, 1, 2, 6)),
         ("a", at(2025, 1, 2, 21), at(2025, 1, 3))],
        id="a daily range is wall clock in the layer's zone"),
    pytest.param(
        Layer(at(2025, 3, 29), DAILY, ("a",), 0, "Europe/Berlin",
              restrictions=daily_range(22, 0, 9 * 3600)),
        at(2025, 3, 29, 12), at(2025, 3, 30, 12),
        [("a", at(2025, 3, 29, 21), at(2025, 3, 30, 5))],
        id="a night range over the spring change ends at 07:00 summer time, eight hours on"),
    pytest.param(
        Layer(at(2025, 1, 1, 12), DAILY, ("a", "b"), 0, restrictions=daily_range(22, 0, 9 * 3600)),
        at(2025, 1, 1), at(2025, 1, 3),
        [("a", at(2025, 1, 1, 22), at(2025, 1, 2, 7)), ("b", at(2025, 1, 2, 22), at(2025, 1, 3))],
        id="the rotation turns on while the layer is restricted"),
    pytest.param(
        Layer(at(2025, 1, 5, 12), WEEKLY, ("a", "b"), 0,
              restrictions=weekly_range(6, 20, 60 * 3600)),
        at(2025, 1, 10), at(2025, 1, 20),
        [("a", at(2025, 1, 11, 20), at(2025, 1, 12, 12)),
         ("b", at(2025, 1, 12, 12), at(2025, 1, 14, 8)),
         ("b", at(2025, 1, 18, 20), at(2025, 1, 19, 12)),
         ("a", at(2025, 1, 19, 12), at(2025, 1, 20))],
        id="a weekly range from Saturday 20:00 for sixty hours runs to Tuesday 08:00"),
    pytest.param(
        Layer(at(2025, 1, 1), DAILY, ("a",), 0, restrictions=Restrictions("weekly", (
            Range(dt.time(9), 8 * 3600, 1), Range(dt.time(9), 8 * 3600, 3)))),
        at(2025, 1, 6), at(2025, 1, 13),
        [("a", at(2025, 1, 6, 9), at(2025, 1, 6, 17)),
         ("a", at(2025, 1, 8, 9), at(2025, 1, 8, 17))],
        id="several weekly ranges each apply on their day"),
]


@pytest.mark.parametrize("layer, since, until, expected", RESTRICTED)
def test_a_layer_applies_only_inside_its_restrictions(layer, since, until, expected):
    assert spans(layer_shifts(layer, since, until)) == expected


# Precedence.

ALL_DAY_A = Layer(at(2025, 1, 1), DAILY, ("a",), 0)
OFFICE_HOURS_B = Layer(at(2025, 1, 1), DAILY, ("b",), 1, restrictions=daily_range(9, 0, 8 * 3600))
WEEKS_C = Layer(at(2025, 1, 1, 12), WEEKLY, ("c",), 2)

PRECEDENCE = [
    pytest.param(
        [ALL_DAY_A, OFFICE_HOURS_B], at(2025, 1, 1), at(2025, 1, 2),
        [("a", at(2025, 1, 1), at(2025, 1, 1, 9), 0),
         ("b", at(2025, 1, 1, 9), at(2025, 1, 1, 17), 1),
         ("a", at(2025, 1, 1, 17), at(2025, 1, 2), 0)],
        id="a restricted higher layer leaves holes the lower one fills"),
    pytest.param(
        [OFFICE_HOURS_B, ALL_DAY_A], at(2025, 1, 1), at(2025, 1, 2),
        [("a", at(2025, 1, 1), at(2025, 1, 1, 9), 0),
         ("b", at(2025, 1, 1, 9), at(2025, 1, 1, 17), 1),
         ("a", at(2025, 1, 1, 17), at(2025, 1, 2), 0)],
        id="the index decides, not the order the layers come in"),
    pytest.param(
        [ALL_DAY_A, WEEKS_C, OFFICE_HOURS_B], at(2024, 12, 31), at(2025, 1, 2),
        [("a", at(2025, 1, 1), at(2025, 1, 1, 9), 0),
         ("b", at(2025, 1, 1, 9), at(2025, 1, 1, 12), 1),
         ("c", at(2025, 1, 1, 12), at(2025, 1, 2), 2)],
        id="the highest index covering an instant wins"),
]


@pytest.mark.parametrize("layers, since, until, expected", PRECEDENCE)
def test_the_final_timeline_takes_the_highest_layer_at_each_instant(layers, since, until,
                                                                   expected):
    found = tier_timeline(layers, [], since, until)
    assert [(s.contact, s.start_at, s.end_at, s.index) for s in found] == expected


def test_an_instant_nobody_covers_is_absent_from_the_final_timeline_and_a_gap():
    found = tier_timeline([OFFICE_HOURS_B], [], at(2025, 1, 1), at(2025, 1, 2))
    assert spans(found) == [("b", at(2025, 1, 1, 9), at(2025, 1, 1, 17))]
    assert gaps(found, at(2025, 1, 1), at(2025, 1, 2)) == [
        (at(2025, 1, 1), at(2025, 1, 1, 9)), (at(2025, 1, 1, 17), at(2025, 1, 2))]


# On-demand overrides.

def test_an_on_demand_shift_beats_every_layer_and_splits_the_layer_it_overrides():
    override = OnDemand(42, "z", at(2025, 1, 1, 10), at(2025, 1, 1, 12))
    found = compute_tier([ALL_DAY_A, OFFICE_HOURS_B], [override], at(2025, 1, 1), at(2025, 1, 2))
    assert found == Computed(
        final=[Shift("a", at(2025, 1, 1), at(2025, 1, 1, 9), 0, None),
               Shift("b", at(2025, 1, 1, 9), at(2025, 1, 1, 10), 1, None),
               Shift("z", at(2025, 1, 1, 10), at(2025, 1, 1, 12), None, 42),
               Shift("b", at(2025, 1, 1, 12), at(2025, 1, 1, 17), 1, None),
               Shift("a", at(2025, 1, 1, 17), at(2025, 1, 2), 0, None)],
        layers=[[Shift("a", at(2025, 1, 1), at(2025, 1, 1, 10), 0, None),
                 Shift("a", at(2025, 1, 1, 10), at(2025, 1, 1, 12), 0, 42),
                 Shift("a", at(2025, 1, 1, 12), at(2025, 1, 2), 0, None)],
                [Shift("b", at(2025, 1, 1, 9), at(2025, 1, 1, 10), 1, None),
                 Shift("b", at(2025, 1, 1, 10), at(2025, 1, 1, 12), 1, 42),
                 Shift("b", at(2025, 1, 1, 12), at(2025, 1, 1, 17), 1, None)]],
        on_demand=[Shift("z", at(2025, 1, 1, 10), at(2025, 1, 1, 12), None, 42)])


def test_an_on_demand_shift_across_the_window_start_is_cut_except_in_the_layer_list():
    layer = Layer(at(2024, 12, 1), DAILY, ("a",), 0)
    override = OnDemand(43, "z", at(2024, 12, 31, 20), at(2025, 1, 1, 2))
    found = compute_tier([layer], [override], at(2025, 1, 1), at(2025, 1, 2))
    assert found == Computed(
        final=[Shift("z", at(2025, 1, 1), at(2025, 1, 1, 2), None, 43),
               Shift("a", at(2025, 1, 1, 2), at(2025, 1, 2), 0, None)],
        layers=[[Shift("a", at(2024, 12, 31, 20), at(2025, 1, 1, 2), 0, 43),
                 Shift("a", at(2025, 1, 1, 2), at(2025, 1, 2), 0, None)]],
        on_demand=[Shift("z", at(2025, 1, 1), at(2025, 1, 1, 2), None, 43)])


def test_an_on_demand_shift_outside_the_window_changes_nothing():
    override = OnDemand(44, "z", at(2025, 1, 3), at(2025, 1, 4))
    found = compute_tier([ALL_DAY_A], [override], at(2025, 1, 1), at(2025, 1, 2))
    assert found == Computed([Shift("a", at(2025, 1, 1), at(2025, 1, 2), 0, None)],
                             [[Shift("a", at(2025, 1, 1), at(2025, 1, 2), 0, None)]], [])


@pytest.mark.parametrize("order, expected", [
    pytest.param("xy", [("x", at(2025, 1, 1, 10), at(2025, 1, 1, 12)),
                        ("y", at(2025, 1, 1, 12), at(2025, 1, 1, 13)),
                        ("x", at(2025, 1, 1, 13), at(2025, 1, 1, 14))],
                 id="the later one cuts into the earlier"),
    pytest.param("yx", [("x", at(2025, 1, 1, 10), at(2025, 1, 1, 14))],
                 id="the earlier one is hidden"),
])
def test_overlapping_on_demand_shifts_go_to_the_one_listed_later(order, expected):
    shifts = {"x": OnDemand(1, "x", at(2025, 1, 1, 10), at(2025, 1, 1, 14)),
              "y": OnDemand(2, "y", at(2025, 1, 1, 12), at(2025, 1, 1, 13))}
    found = tier_timeline([], [shifts[name] for name in order], at(2025, 1, 1), at(2025, 1, 2))
    assert spans(found) == expected


def test_instants_given_in_another_zone_come_back_in_utc():
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    override = OnDemand(5, "z", dt.datetime(2025, 1, 1, 11, tzinfo=berlin),
                        dt.datetime(2025, 1, 1, 13, tzinfo=berlin))
    found = compute_tier([ALL_DAY_A], [override], dt.datetime(2025, 1, 1, 1, tzinfo=berlin),
                         dt.datetime(2025, 1, 2, 1, tzinfo=berlin))
    assert spans(found.final) == [("a", at(2025, 1, 1), at(2025, 1, 1, 10)),
                                  ("z", at(2025, 1, 1, 10), at(2025, 1, 1, 12)),
                                  ("a", at(2025, 1, 1, 12), at(2025, 1, 2))]
    instants = [i for s in found.final + found.on_demand + found.layers[0]
                for i in (s.start_at, s.end_at)]
    assert all(instant.tzinfo is UTC for instant in instants)


# compute_tier's layer lists keep the true start of a shift across the window's start.

def test_the_seed_example_keeps_the_layer_shift_s_true_start_and_cuts_the_final_one():
    layer = Layer(at(2024, 11, 5, 13), DAILY, (7,), 0)
    found = compute_tier([layer], [], at(2025, 1, 11, 16, 37, 23), at(2025, 3, 12, 16, 37, 23))
    assert found == Computed(
        final=[Shift(7, at(2025, 1, 11, 16, 37, 23), at(2025, 3, 12, 16, 37, 23), 0, None)],
        layers=[[Shift(7, at(2024, 11, 5, 13), at(2025, 3, 12, 16, 37, 23), 0, None)]],
        on_demand=[])


TRUE_STARTS = [
    pytest.param(Layer(at(2025, 1, 1, 9), DAILY, ("a", "b"), 0), at(2025, 1, 2, 12),
                 at(2025, 1, 3), ("b", at(2025, 1, 2, 9), at(2025, 1, 3)),
                 id="the turn holding the window start"),
    pytest.param(Layer(at(2025, 1, 1, 9), DAILY, ("a", "a", "b"), 0), at(2025, 1, 2, 12),
                 at(2025, 1, 3), ("a", at(2025, 1, 1, 9), at(2025, 1, 3)),
                 id="back over the same contact's turns"),
    pytest.param(Layer(at(2024, 12, 1), DAILY, ("a",), 0, restrictions=daily_range(8, 0, 36000)),
                 at(2025, 1, 2, 12), at(2025, 1, 2, 20),
                 ("a", at(2025, 1, 2, 8), at(2025, 1, 2, 18)),
                 id="back to the restriction window's start"),
    pytest.param(Layer(at(2024, 10, 1, 6), DAILY, ("a",), 0, restrictions=daily_range(0, 0, 86400)),
                 at(2025, 1, 2, 12), at(2025, 1, 3), ("a", at(2024, 10, 1, 6), at(2025, 1, 3)),
                 id="back over touching restriction windows to the layer's start"),
]


@pytest.mark.parametrize("layer, since, until, expected", TRUE_STARTS)
def test_a_layer_list_shift_across_the_window_start_begins_where_its_run_does(layer, since,
                                                                             until, expected):
    found = compute_tier([layer], [], since, until)
    assert spans(found.layers[0])[0] == expected
    assert found.final[0].start_at == since


# Time zones: wall-clock handoffs across daylight saving time.

DST = [
    pytest.param("Europe/Berlin", at(2025, 3, 28, 8), [at(2025, 3, 29, 8), at(2025, 3, 30, 7)],
                 id="09:00 in Berlin is 08:00 UTC before spring and 07:00 after"),
    pytest.param("Europe/Berlin", at(2025, 10, 24, 7), [at(2025, 10, 25, 7), at(2025, 10, 26, 8)],
                 id="09:00 in Berlin is 07:00 UTC before autumn and 08:00 after"),
    pytest.param("America/New_York", at(2025, 3, 7, 14), [at(2025, 3, 8, 14), at(2025, 3, 9, 13)],
                 id="09:00 in New York is 14:00 UTC before spring and 13:00 after"),
    pytest.param("America/New_York", at(2025, 10, 31, 13),
                 [at(2025, 11, 1, 13), at(2025, 11, 2, 14)],
                 id="09:00 in New York is 13:00 UTC before autumn and 14:00 after"),
    pytest.param("Europe/Berlin", at(2025, 3, 28, 1, 30),
                 [at(2025, 3, 29, 1, 30), at(2025, 3, 30, 1, 30), at(2025, 3, 31, 0, 30)],
                 id="the skipped 02:30 in Berlin is read at the winter offset, 03:30 summer time"),
    pytest.param("America/New_York", at(2025, 3, 7, 7, 30),
                 [at(2025, 3, 8, 7, 30), at(2025, 3, 9, 7, 30), at(2025, 3, 10, 6, 30)],
                 id="the skipped 02:30 in New York is read at the winter offset"),
    pytest.param("America/New_York", at(2025, 10, 31, 5, 30),
                 [at(2025, 11, 1, 5, 30), at(2025, 11, 2, 5, 30), at(2025, 11, 3, 6, 30)],
                 id="the repeated 01:30 in New York is its first occurrence"),
    pytest.param("Europe/Berlin", at(2025, 10, 24, 0, 30),
                 [at(2025, 10, 25, 0, 30), at(2025, 10, 26, 0, 30), at(2025, 10, 27, 1, 30)],
                 id="the repeated 02:30 in Berlin is its first occurrence"),
]


@pytest.mark.parametrize("zone, start_at, handoffs", DST)
def test_a_daily_handoff_keeps_its_wall_clock_time_across_dst(zone, start_at, handoffs):
    layer = Layer(start_at, DAILY, ("a", "b"), 0, zone)
    found = layer_shifts(layer, start_at, handoffs[-1] + dt.timedelta(hours=1))
    assert [shift.start_at for shift in found] == [start_at] + handoffs
    assert [shift.contact for shift in found] == ["a", "b", "a", "b"][:len(found)]


def test_turns_shorter_than_the_skipped_hour_are_held_and_never_run_backwards():
    # 20-minute turns from 01:40 CET on the spring day: 02:00, 02:20 and 02:40 do not exist
    # and read as 01:00, 01:20 and 01:40 UTC; 03:00 and 03:20 CEST (01:00 and 01:20 UTC) are
    # held at 01:40 UTC, so the turns of contacts 3, 4 and 5 last nothing.
    layer = Layer(at(2025, 3, 30, 0, 40), custom(1200), tuple(range(8)), 0, "Europe/Berlin")
    found = layer_shifts(layer, at(2025, 3, 30), at(2025, 3, 30, 2, 20))
    assert spans(found) == [
        (0, at(2025, 3, 30, 0, 40), at(2025, 3, 30, 1)),
        (1, at(2025, 3, 30, 1), at(2025, 3, 30, 1, 20)),
        (2, at(2025, 3, 30, 1, 20), at(2025, 3, 30, 1, 40)),
        (6, at(2025, 3, 30, 1, 40), at(2025, 3, 30, 2)),
        (7, at(2025, 3, 30, 2), at(2025, 3, 30, 2, 20))]


def test_a_window_starting_inside_the_held_turns_finds_the_same_boundaries():
    layer = Layer(at(2025, 3, 30, 0, 40), custom(1200), tuple(range(8)), 0, "Europe/Berlin")
    found = layer_shifts(layer, at(2025, 3, 30, 1, 50), at(2025, 3, 30, 2, 10))
    assert spans(found) == [(6, at(2025, 3, 30, 1, 50), at(2025, 3, 30, 2)),
                            (7, at(2025, 3, 30, 2), at(2025, 3, 30, 2, 10))]


# Who is on call at an instant.

@pytest.mark.parametrize("instant, expected", [
    pytest.param(at(2025, 1, 1, 8, 59, 59), "a", id="the lower layer before the range"),
    pytest.param(at(2025, 1, 1, 9), "b", id="the higher layer from the range's first instant"),
    pytest.param(at(2025, 1, 1, 10, 30), "z", id="the override inside its span"),
    pytest.param(at(2025, 1, 1, 17), "a", id="the lower layer from the range's end"),
    pytest.param(at(2024, 12, 31), None, id="nobody before every layer's start"),
])
def test_on_call_at_names_who_the_tier_has_on_call_then(instant, expected):
    override = OnDemand(42, "z", at(2025, 1, 1, 10), at(2025, 1, 1, 11))
    assert on_call_at([ALL_DAY_A, OFFICE_HOURS_B], [override], instant) == expected


# Merging and gaps.

MERGES = [
    pytest.param([Shift("a", at(2025, 1, 1), at(2025, 1, 2), 0),
                  Shift("a", at(2025, 1, 2), at(2025, 1, 3), 0)],
                 [Shift("a", at(2025, 1, 1), at(2025, 1, 3), 0)], id="touching shifts join"),
    pytest.param([Shift("a", at(2025, 1, 2), at(2025, 1, 4), 0),
                  Shift("a", at(2025, 1, 1), at(2025, 1, 3), 0)],
                 [Shift("a", at(2025, 1, 1), at(2025, 1, 4), 0)], id="overlapping shifts join"),
    pytest.param([Shift("a", at(2025, 1, 1), at(2025, 1, 2), 0),
                  Shift("a", at(2025, 1, 2), at(2025, 1, 3), 1)],
                 [Shift("a", at(2025, 1, 1), at(2025, 1, 2), 0),
                  Shift("a", at(2025, 1, 2), at(2025, 1, 3), 1)],
                 id="shifts of two layers stay apart"),
    pytest.param([Shift("a", at(2025, 1, 1), at(2025, 1, 2), 0, 5),
                  Shift("a", at(2025, 1, 2), at(2025, 1, 3), 0)],
                 [Shift("a", at(2025, 1, 1), at(2025, 1, 2), 0, 5),
                  Shift("a", at(2025, 1, 2), at(2025, 1, 3), 0)],
                 id="an overridden piece stays apart"),
    pytest.param([Shift("b", at(2025, 1, 2), at(2025, 1, 3)),
                  Shift("a", at(2025, 1, 1), at(2025, 1, 1)),
                  Shift("a", at(2025, 1, 1), at(2025, 1, 2))],
                 [Shift("a", at(2025, 1, 1), at(2025, 1, 2)),
                  Shift("b", at(2025, 1, 2), at(2025, 1, 3))],
                 id="shifts of no length go and the rest come in order"),
]


@pytest.mark.parametrize("shifts, expected", MERGES)
def test_merge_joins_a_source_s_touching_shifts_of_one_contact(shifts, expected):
    assert merge(shifts) == expected


GAPS = [
    pytest.param([], [(at(2025, 1, 1), at(2025, 1, 2))], id="no shifts leave the whole window"),
    pytest.param([Shift("a", at(2024, 12, 31), at(2025, 1, 3))], [], id="a shift over it all"),
    pytest.param([Shift("a", at(2025, 1, 1, 2), at(2025, 1, 1, 4)),
                  Shift("b", at(2025, 1, 1, 3), at(2025, 1, 1, 5)),
                  Shift("c", at(2025, 1, 1, 7), at(2025, 1, 1, 8)),
                  Shift("d", at(2025, 1, 3), at(2025, 1, 4))],
                 [(at(2025, 1, 1), at(2025, 1, 1, 2)), (at(2025, 1, 1, 5), at(2025, 1, 1, 7)),
                  (at(2025, 1, 1, 8), at(2025, 1, 2))],
                 id="overlapping shifts leave the holes between them"),
]


@pytest.mark.parametrize("shifts, expected", GAPS)
def test_gaps_are_the_parts_of_the_window_nobody_covers(shifts, expected):
    assert gaps(shifts, at(2025, 1, 1), at(2025, 1, 2)) == expected


# Team schedule entries.

def entry(contact="m", start_time=dt.time(9), end_time=dt.time(17), zone="UTC",
          start_at=at(2025, 1, 1), end_at=at(2026, 1, 1), **recurrence) -> Recurrence:
    return Recurrence(contact, start_at, end_at, start_time, end_time, zone,
                      **{name: frozenset(values) for name, values in recurrence.items()})


RECURRENCES = [
    pytest.param([entry(weeks=[1], week_days=[1])], at(2025, 1, 1), at(2025, 4, 1),
                 [("m", at(2025, 1, 6, 9), at(2025, 1, 6, 17)),
                  ("m", at(2025, 2, 3, 9), at(2025, 2, 3, 17)),
                  ("m", at(2025, 3, 3, 9), at(2025, 3, 3, 17))],
                 id="the first Monday of each month"),
    pytest.param([entry(weeks=[-1], week_days=[5])], at(2025, 1, 1), at(2025, 4, 1),
                 [("m", at(2025, 1, 31, 9), at(2025, 1, 31, 17)),
                  ("m", at(2025, 2, 28, 9), at(2025, 2, 28, 17)),
                  ("m", at(2025, 3, 28, 9), at(2025, 3, 28, 17))],
                 id="the last Friday of each month"),
    pytest.param([entry(weeks=[5])], at(2025, 2, 1), at(2025, 4, 1),
                 [("m", at(2025, 3, 29, 9), at(2025, 3, 29, 17)),
                  ("m", at(2025, 3, 30, 9), at(2025, 3, 30, 17)),
                  ("m", at(2025, 3, 31, 9), at(2025, 3, 31, 17))],
                 id="week five is days 29 to 31, which February 2025 lacks"),
    pytest.param([entry(start_time=dt.time(22), end_time=dt.time(6), week_days=[6])],
                 at(2025, 1, 1), at(2025, 1, 15),
                 [("m", at(2025, 1, 4, 22), at(2025, 1, 5, 6)),
                  ("m", at(2025, 1, 11, 22), at(2025, 1, 12, 6))],
                 id="an end before the start runs past midnight and belongs to its first day"),
    pytest.param([entry(start_time=dt.time(0), end_time=dt.time(23, 59, 59), months=[2])],
                 at(2025, 1, 30), at(2025, 3, 2),
                 [("m", at(2025, 2, 1), at(2025, 3, 1))],
                 id="all day every day of February is one shift"),
    pytest.param([entry(zone="Europe/Berlin", week_days=[1, 5])], at(2025, 3, 27), at(2025, 4, 1),
                 [("m", at(2025, 3, 28, 8), at(2025, 3, 28, 16)),
                  ("m", at(2025, 3, 31, 7), at(2025, 3, 31, 15))],
                 id="the entry's zone moves its shifts across DST"),
    pytest.param([entry(start_at=at(2025, 1, 1, 12), end_at=at(2025, 1, 3, 12))],
                 at(2024, 12, 1), at(2025, 2, 1),
                 [("m", at(2025, 1, 1, 12), at(2025, 1, 1, 17)),
                  ("m", at(2025, 1, 2, 9), at(2025, 1, 2, 17)),
                  ("m", at(2025, 1, 3, 9), at(2025, 1, 3, 12))],
                 id="shifts are clipped to the entry's dates"),
    pytest.param([entry(contact="n", start_time=dt.time(12), end_time=dt.time(20)),
                  entry(contact="m", start_time=dt.time(16), end_time=dt.time(22)),
                  entry(contact="m")],
                 at(2025, 1, 1), at(2025, 1, 1, 23),
                 [("m", at(2025, 1, 1, 9), at(2025, 1, 1, 22)),
                  ("n", at(2025, 1, 1, 12), at(2025, 1, 1, 20))],
                 id="a contact's overlapping entries merge while others overlap them"),
    pytest.param([entry(contact="n"), entry(contact="m")], at(2025, 1, 1, 10), at(2025, 1, 1, 11),
                 [("m", at(2025, 1, 1, 10), at(2025, 1, 1, 11)),
                  ("n", at(2025, 1, 1, 10), at(2025, 1, 1, 11))],
                 id="shifts at the same start come by contact and are cut to the window"),
]


@pytest.mark.parametrize("entries, since, until, expected", RECURRENCES)
def test_a_team_schedule_entry_gives_the_days_its_recurrence_names(entries, since, until,
                                                                  expected):
    found = recurrence_shifts(entries, since, until)
    assert spans(found) == expected
    assert all(shift.index is None and shift.override is None for shift in found)


# Contact statistics.

def test_contact_stats_count_night_and_weekend_hours_on_the_layer_s_wall_clock():
    shifts = [
        # Friday 21:00 to Saturday 09:00 in Berlin: nights from 22:00, weekend from midnight.
        Shift(10, at(2025, 1, 10, 20), at(2025, 1, 11, 8), 0),
        Shift(10, at(2025, 1, 11, 8), at(2025, 1, 11, 10), None, 7),   # on-demand: UTC
        # Thursday 20:00 to Friday 09:00 in New York (summer time).
        Shift(2, at(2025, 7, 4), at(2025, 7, 4, 12), 1),
        Shift(2, at(2025, 7, 4, 12), at(2025, 7, 4, 13), 1),           # touches: one shift
    ]
    found = contact_stats(shifts, {0: "Europe/Berlin", 1: "America/New_York"},
                          at(2025, 1, 1), at(2026, 1, 1))
    assert found == [ContactStats(2, 1, 13.0, 9.0, 0.0), ContactStats(10, 2, 14.0, 9.0, 11.0)]


def test_contact_stats_count_only_what_lies_inside_the_window():
    shifts = [Shift("a", at(2025, 1, 3, 12), at(2025, 1, 6, 12), 0)]   # Friday to Monday noon
    found = contact_stats(shifts, {}, at(2025, 1, 4, 6), at(2025, 1, 5, 23))
    assert found == [ContactStats("a", 1, 41.0, 1.0 + 9.0 + 1.0, 41.0)]


def test_contact_stats_order_integer_ids_by_value_and_uuids_by_text():
    first, second = uuid.UUID(int=1), uuid.UUID(int=2)
    shifts = [Shift(second, at(2025, 1, 1), at(2025, 1, 1, 1)),
              Shift(first, at(2025, 1, 1, 1), at(2025, 1, 1, 2))]
    assert [s.contact for s in contact_stats(shifts, {}, at(2025, 1, 1), at(2025, 1, 2))] == [
        first, second]
    numbered = [Shift(10, at(2025, 1, 1), at(2025, 1, 1, 1)),
                Shift(9, at(2025, 1, 1, 1), at(2025, 1, 1, 2))]
    found = contact_stats(numbered, {}, at(2025, 1, 1), at(2025, 1, 2))
    assert [s.contact for s in found] == [9, 10]


# The wall clock behind every conversion.

@pytest.mark.parametrize("zone, year", [
    ("Europe/Berlin", 2025), ("America/New_York", 2025), ("Australia/Lord_Howe", 2025),
    ("America/Havana", 2025), ("Pacific/Apia", 2011), ("Asia/Kolkata", 2025), ("UTC", 2025)])
def test_the_wall_clock_reads_every_quarter_hour_as_zoneinfo_does_with_fold_0(zone, year):
    # Half-hour summer time (Lord Howe), changes at midnight (Havana), a skipped day (Apia).
    clock, info = wallclock.clock(zone), zoneinfo.ZoneInfo(zone)
    naive, end = dt.datetime(year, 1, 1), dt.datetime(year + 1, 1, 1)
    walk = clock.walk(naive.replace(tzinfo=UTC), end.replace(tzinfo=UTC))
    while naive < end:
        expected = naive.replace(tzinfo=info, fold=0).astimezone(UTC)
        assert clock.instant(naive.replace(tzinfo=UTC)) == expected, naive
        assert walk.instant(naive.replace(tzinfo=UTC)) == expected, naive
        assert clock.wall(expected) == expected.astimezone(info).replace(tzinfo=UTC)
        naive += dt.timedelta(minutes=15)
