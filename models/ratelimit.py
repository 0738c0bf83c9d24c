"""Rate limits on abuse-prone operations (sign-in, code checks), counted in Redis when there is one.

Uses the `limits` library: a moving window, so a burst at a window's edge cannot double the rate.
Without Redis the counters live in this process's memory, which is exact for the embedded form.
"""
from __future__ import annotations

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
    item = limits.parse(rate)
    if _limiter.hit(item, scope, key.lower()):
        return
    reset_at = _limiter.get_window_stats(item, scope, key.lower()).reset_time
    retry_after = max(1, math.ceil(reset_at - time.time()))
    raise TooManyRequests(f"Too many attempts; try again in {retry_after} seconds.",
                          retry_after_seconds=retry_after)
