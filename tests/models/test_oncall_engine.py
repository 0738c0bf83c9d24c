"""The rotation engine, as tables of layers, windows and the shifts they give."""
from __future__ import annotations

import datetime as dt

import pytest

from models.oncall.engine import Computed, Layer, Rotation, Shift, compute_tier, layer_shifts

UTC = dt.timezone.utc


def at(*parts) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)


def test_the_seed_example_keeps_the_layer_shift_s_true_start_and_cuts_the_final_one():
    layer = Layer(at(2024, 11, 5, 13), Rotation("daily"), (7,), 0)
    found = compute_tier([layer], [], at(2025, 1, 11, 16, 37, 23), at(2025, 3, 12, 16, 37, 23))
    assert found == Computed(
        final=[Shift(7, at(2025, 1, 11, 16, 37, 23), at(2025, 3, 12, 16, 37, 23), 0, None)],
        layers=[[Shift(7, at(2024, 11, 5, 13), at(2025, 3, 12, 16, 37, 23), 0, None)]],
        on_demand=[])


@pytest.mark.parametrize("zone, start_at, handoffs", [
    ("Europe/Berlin", at(2025, 3, 28, 8), [at(2025, 3, 29, 8), at(2025, 3, 30, 7)]),
    ("America/New_York", at(2025, 3, 7, 14), [at(2025, 3, 8, 14), at(2025, 3, 9, 13)]),
])
def test_a_daily_nine_o_clock_handoff_stays_at_nine_local_across_spring(zone, start_at,
                                                                         handoffs):
    layer = Layer(start_at, Rotation("daily"), (1, 2), 0, zone)
    found = layer_shifts(layer, start_at, handoffs[-1] + dt.timedelta(hours=1))
    assert [shift.start_at for shift in found][1:] == handoffs
