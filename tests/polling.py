"""Waiting on something another thread or process does: poll to a deadline, never sleep blind."""
from __future__ import annotations

import time


def wait_until(condition, timeout: float = 20, interval: float = 0.02, message: str = ""):
    """Answers `condition()` as soon as it is truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        time.sleep(interval)
