"""The ping probe: ICMP echo requests to a host, on icmplib.

Unprivileged ICMP (datagram) sockets come first: Linux grants them to the groups in
`net.ipv4.ping_group_range`, no root needed. Where those are refused, raw sockets are tried,
which root (or CAP_NET_RAW) may open. Where both are refused the probe says so plainly.
"""
from __future__ import annotations

import contextlib
import time

import icmplib
from icmplib.utils import unique_identifier

from workers import netpolicy
from workers.probes.result import ProbeResult
from workers.probes.tcp import describe, elapsed_ms, time_left

NOT_PERMITTED = ("ICMP not permitted: set net.ipv4.ping_group_range to include this "
                 "process's group, or run as root (or with CAP_NET_RAW)")


class _NotPermitted(Exception):
    """Neither kind of ICMP socket may be opened by this process."""


def probe_ping(host: str, *, count: int = 1, timeout: float, allow_private: bool) -> ProbeResult:
    """Sends `count` echo requests to the first allowed address of `host`, one after the
    other, all within `timeout` seconds. `ok` when at least one reply came back;
    `response_ms` is the average round trip. Never raises for a network failure."""
    started = time.monotonic()
    try:
        address = netpolicy.resolve(host, 0, allow_private=allow_private)[0][3][0]
        replies, problem, privileged = _echo(address, max(count, 1), started + timeout)
    except _NotPermitted:
        return ProbeResult.failure(NOT_PERMITTED, response_ms=elapsed_ms(started))
    except icmplib.ICMPLibError as exc:
        return ProbeResult.failure(f"could not open an ICMP socket: {exc}",
                                   response_ms=elapsed_ms(started))
    except OSError as exc:
        return ProbeResult.failure(describe(exc, doing="resolving the host name"),
                                   response_ms=elapsed_ms(started))
    details = {"address": address, "packets_sent": replies.packets_sent,
               "packets_received": replies.packets_received,
               "packet_loss": replies.packet_loss if replies.packets_sent else 1.0,
               "rtt_min_ms": replies.min_rtt if replies.is_alive else None,
               "rtt_avg_ms": replies.avg_rtt if replies.is_alive else None,
               "rtt_max_ms": replies.max_rtt if replies.is_alive else None,
               "privileged": privileged}
    timings = {"total_ms": elapsed_ms(started)}
    if not replies.is_alive:
        return ProbeResult(ok=False, error=_reason(problem, address), timings=timings,
                           response_ms=timings["total_ms"], details=details)
    return ProbeResult(ok=True, response_ms=replies.avg_rtt, timings=timings, details=details)


def _echo(address: str, count: int, deadline: float):
    """(icmplib.Host, the last problem met, whether raw sockets were used)."""
    sock, privileged = _open(icmplib.ICMPv6Socket if ":" in address else icmplib.ICMPv4Socket)
    identifier, sent, rtts, problem = unique_identifier(), 0, [], None
    with sock:
        for sequence in range(count):
            request = icmplib.ICMPRequest(address, identifier, sequence)
            try:
                # each request gets an equal share of what is left of the budget
                wait = time_left(deadline) / (count - sequence)
                sock.send(request)
                sent += 1
                reply = sock.receive(request, wait)
                reply.raise_for_status()
                rtts.append((reply.time - request.time) * 1000)
            except (icmplib.ICMPLibError, TimeoutError) as exc:
                problem = exc
    return icmplib.Host(address, sent, rtts), problem, privileged


def _open(kind):
    for privileged in (False, True):
        with contextlib.suppress(icmplib.SocketPermissionError):
            return kind(privileged=privileged), privileged
    raise _NotPermitted


def _reason(problem: Exception | None, address: str) -> str:
    if isinstance(problem, icmplib.ICMPError):       # an error report from the way there
        return f"no echo reply from {address}: {str(problem).lower()}"
    if isinstance(problem, (icmplib.TimeoutExceeded, TimeoutError)) or problem is None:
        return f"no echo reply from {address}: timed out"
    return f"could not send an echo request to {address}: {problem}"
