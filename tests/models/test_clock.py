"""The NTP clock check: measured offset, correction, the start-up bound, unreachable servers."""
from __future__ import annotations

import datetime as dt
import logging

import pytest

from models import clock, health
from pinghome.localservers import free_port
from tests.ntp_server import FakeNtpServer


@pytest.fixture
def ntp():
    server = FakeNtpServer().start()
    yield server
    server.stop()
    clock.set_offset(0.0)


def test_the_offset_is_measured_against_the_server(ntp):
    ntp.offset_seconds = 3.0
    reading = clock.measure_offset(ntp.address, timeout_seconds=2)
    assert reading.reached
    assert reading.offset_seconds == pytest.approx(3.0, abs=0.2)


def test_an_unreachable_server_is_reported_not_raised():
    reading = clock.measure_offset(f"127.0.0.1:{free_port()}", timeout_seconds=0.3)
    assert not reading.reached and reading.error


def test_the_clock_is_corrected_by_the_measured_offset_and_recorded(settings, ntp):
    ntp.offset_seconds = 1.5
    before = clock.now()
    health.check_clock(settings.replace(ntp_server=ntp.address), role="scheduler",
                       instance="a:1", at_start=True)
    assert clock.now() - before >= dt.timedelta(seconds=1.3)
    stored = health.ClockReading.get(health.ClockReading.role == "scheduler")
    assert stored.offset_seconds == pytest.approx(1.5, abs=0.2)


def test_a_starting_process_refuses_an_offset_past_the_bound(settings, ntp):
    ntp.offset_seconds = 10
    bounded = settings.replace(ntp_server=ntp.address, max_clock_offset_seconds=2)
    with pytest.raises(health.ClockOffsetTooLarge, match="PINGHOME_MAX_CLOCK_OFFSET_SECONDS"):
        health.check_clock(bounded, role="worker", instance="a:1", at_start=True)


def test_a_running_process_logs_an_offset_past_the_bound_and_corrects_it(settings, ntp, caplog):
    ntp.offset_seconds = 10
    bounded = settings.replace(ntp_server=ntp.address, max_clock_offset_seconds=2)
    with caplog.at_level(logging.ERROR, logger="models.health"):
        health.check_clock(bounded, role="worker", instance="a:1", at_start=False)
    assert "PINGHOME_MAX_CLOCK_OFFSET_SECONDS" in caplog.text
    assert clock.offset_seconds() == pytest.approx(10, abs=0.2)


def test_an_unreachable_server_is_a_warning_and_the_offset_is_kept(settings, caplog):
    clock.set_offset(0.5)
    try:
        unreachable = settings.replace(ntp_server=f"127.0.0.1:{free_port()}",
                                       ntp_timeout_seconds=0.3)
        with caplog.at_level(logging.WARNING, logger="models.health"):
            reading = health.check_clock(unreachable, role="worker", instance="a:1", at_start=True)
        assert not reading.reached
        assert "unreachable" in caplog.text
        assert clock.offset_seconds() == 0.5
        assert health.ClockReading.get(health.ClockReading.instance == "a:1").error
    finally:
        clock.set_offset(0.0)


def test_no_server_configured_means_no_check(settings):
    assert health.check_clock(settings.replace(ntp_server=None), role="worker", instance="a:1",
                              at_start=True) is None
