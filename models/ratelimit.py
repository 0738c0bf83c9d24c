"""Rate limits on abuse-prone operations (sign-in, sign-up, code checks, messages sent on
request), counted in Redis when there is one.

Uses the `limits` library: a moving window, so a burst at a window's edge cannot double the rate.
Without Redis the counters live in this process's memory, which is exact for the embedded form.
"""
from __future__ import annotations

import ipaddress
import math
import time

import limits
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from models.errors import TooManyRequests

_limiter = MovingWindowRateLimiter(storage_from_string("memory://"))


def configure(redis_url: str | None) -> None:
    global _limiter
    uri = redis_url if redis_url else "memory://"
    _limiter = MovingWindowRateLimiter(storage_from_string(uri))


def reset() -> None:
    """Forgets every counter (tests)."""
    _limiter.storage.reset()


def hit(rate: str, scope: str, key: str) -> None:
    """Counts one attempt at `scope` by `key`; raises `TooManyRequests` past `rate`."""
    hit_all((rate, scope, key))


def hit_client(rate: str, scope: str, ip: str | None) -> None:
    """`hit` by a client's address (nothing without one, as for calls that come from no
    request). An IPv6 address counts as its /64: a host or a home gets a whole /64 and may
    pick any address in it, so per-address limits would not hold."""
    if ip:
        hit(rate, scope, client_key(ip))


def client_key(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if address.version == 6 and address.ipv4_mapped:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def hit_all(*checks: tuple[str, str, str]) -> None:
    """Counts one attempt against each `(rate, scope, key)`, or against none if any of them is
    spent already (a refused request uses up no other budget); raises `TooManyRequests` with
    the wait of the first one spent. Two requests racing past the test are still each
    counted, and refused, by the hits."""
    parsed = [(limits.parse(rate), scope, key.lower()) for rate, scope, key in checks]
    for item, scope, key in parsed:
        if not _limiter.test(item, scope, key):
            _refuse(item, scope, key)
    for item, scope, key in parsed:
        if not _limiter.hit(item, scope, key):
            _refuse(item, scope, key)


def _refuse(item, scope: str, key: str):
    reset_at = _limiter.get_window_stats(item, scope, key).reset_time
    retry_after = max(1, math.ceil(reset_at - time.time()))
    raise TooManyRequests(f"Too many attempts; try again in {retry_after} seconds.",
                          retry_after_seconds=retry_after)
