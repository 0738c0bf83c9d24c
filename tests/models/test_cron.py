"""Cron occurrences as maintenance windows and schedules read them."""
from __future__ import annotations

import datetime as dt

import pytest

from models import cron
from models.monitors import maintenance

UTC = dt.timezone.utc


@pytest.mark.parametrize("at, expected", [
    (dt.datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC), dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)),
    (dt.datetime(2026, 3, 2, 12, 0, 30, tzinfo=UTC), dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)),
    # a minute's last second, with a fraction: not the next minute's occurrence
    (dt.datetime(2026, 3, 2, 12, 0, 59, 500_000, tzinfo=UTC),
     dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)),
    (dt.datetime(2026, 3, 2, 12, 0, 59, 999_999, tzinfo=UTC),
     dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)),
])
def test_the_previous_occurrence_is_never_after_the_instant(at, expected):
    assert cron.previous_at_or_before("* * * * *", at) == expected


def test_an_every_minute_window_holds_in_every_second_of_the_minute():
    start = dt.datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    for tenth in range(600):
        at = start + dt.timedelta(milliseconds=100 * tenth + 50)
        assert maintenance.in_window("* * * * *", 5, at), at
