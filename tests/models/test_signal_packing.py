"""A signal's bytes in the stream are a COPY row: every value survives the trip, whatever it
holds, and entries an older gateway wrote as JSON still read."""
from __future__ import annotations

import datetime as dt
import json

from models import copytext
from models.heartbeats.packing import pack, unpack
from models.heartbeats.signals import Signal

AT = dt.datetime(2026, 11, 30, 4, 5, 6, 789_000, tzinfo=dt.timezone.utc)


def test_values_with_tabs_newlines_backslashes_and_nulls_round_trip():
    row = ["plain", None, "", "a\tb", "two\nlines\r\n", "C:\\tmp\\N", "\\N", "é ✓"]
    line = copytext.line(row)
    assert b"\n" not in line and line.count(b"\t") == len(row) - 1
    assert copytext.values(line) == row


def test_a_signal_packs_to_a_row_and_back():
    signal = Signal(key="ab" * 16, heartbeat_id="0f9c2d4e-1b2a-4c3d-8e9f-001122334455",
                    result="complete", received_at=AT, method="POST",
                    message="done\t42 files\nno errors", ip="::1", user_agent=None)
    packed = pack(signal)
    assert packed.split(b"\t")[4] == b"2026-11-30 04:05:06.789000"    # naive UTC, as stored
    back = unpack(packed)
    assert back == signal and back.packed == packed and back.received_at.tzinfo is not None


def test_entries_an_older_gateway_wrote_as_json_still_read():
    old = json.dumps(["cd" * 16, "0f9c2d4e-1b2a-4c3d-8e9f-001122334455", "tick",
                      AT.timestamp(), "GET", None, "127.0.0.1", "curl/8"]).encode()
    signal = unpack(old)
    assert (signal.result, signal.received_at, signal.user_agent) == ("tick", AT, "curl/8")
