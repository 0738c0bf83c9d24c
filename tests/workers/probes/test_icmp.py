"""The ping probe, sending real ICMP echo requests.

On this project's machines (and CI) the tests run as root while `net.ipv4.ping_group_range`
is "1 0", the kernel's default, which admits no group: unprivileged (datagram) ICMP sockets
are refused, so the probe falls back to raw sockets, which root may open. The refusal path
runs in a child process stripped of CAP_NET_RAW, where neither kind of socket may be opened
unless ping_group_range admits the child's group.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workers.probes.icmp import NOT_PERMITTED, probe_ping

ROOT = Path(__file__).resolve().parents[3]


def unprivileged_icmp_allowed() -> bool:
    low, high = map(int, Path("/proc/sys/net/ipv4/ping_group_range").read_text().split())
    return any(low <= group <= high for group in {os.getgid(), *os.getgroups()})


def test_loopback_answers_echo_requests():
    result = probe_ping("127.0.0.1", count=3, timeout=2, allow_private=True)
    assert result.ok and result.error is None
    details = result.details
    assert (details["address"], details["packets_sent"], details["packets_received"],
            details["packet_loss"]) == ("127.0.0.1", 3, 3, 0.0)
    assert 0 <= details["rtt_min_ms"] <= details["rtt_avg_ms"] <= details["rtt_max_ms"]
    assert result.response_ms == details["rtt_avg_ms"]
    # raw sockets only where datagram ones are refused (see the module's docstring)
    assert details["privileged"] is not unprivileged_icmp_allowed()


def test_a_host_name_is_resolved_through_the_network_policy_first():
    result = probe_ping("localhost", timeout=2, allow_private=True)
    assert result.ok and result.details["address"] in ("127.0.0.1", "::1")


@pytest.mark.parametrize("address", [
    "192.0.2.200",     # TEST-NET-1: here an unanswered neighbour, so the wait runs out
    "198.51.100.1",    # TEST-NET-2: here the gateway reports it unreachable at once
])
def test_an_unanswered_address_fails_within_the_timeout(address):
    started = time.monotonic()
    result = probe_ping(address, count=2, timeout=1, allow_private=True)
    assert time.monotonic() - started < 1.5
    assert not result.ok and result.response_ms == result.timings["total_ms"]
    assert result.error.startswith((f"no echo reply from {address}",
                                    f"could not send an echo request to {address}"))
    assert (result.details["packets_received"], result.details["packet_loss"]) == (0, 1.0)
    assert result.details["rtt_avg_ms"] is None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.0.0.1", "192.168.1.1", "::1"])
def test_private_addresses_are_refused_unless_allowed(host):
    result = probe_ping(host, timeout=1, allow_private=False)
    assert not result.ok and "may not reach" in result.error
    assert result.details == {}


def test_without_icmp_permission_the_probe_says_what_to_change():
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (Debian's util-linux) is needed to drop CAP_NET_RAW"
    script = ("import json; from workers.probes.icmp import probe_ping; "
              "r = probe_ping('127.0.0.1', timeout=2, allow_private=True); "
              "print(json.dumps([r.ok, r.error, r.details.get('privileged')]))")
    child = subprocess.run([setpriv, "--bounding-set=-net_raw", "--inh-caps=-net_raw",
                            sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                           text=True, timeout=30)
    assert child.returncode == 0, child.stderr
    if unprivileged_icmp_allowed():
        assert json.loads(child.stdout) == [True, None, False]
    else:
        assert json.loads(child.stdout) == [False, NOT_PERMITTED, None]
