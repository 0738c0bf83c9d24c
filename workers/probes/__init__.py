"""Probes: plain functions that take a target's settings and return a `ProbeResult`.

They know nothing of queues, databases or settings; durations come from `time.monotonic()`.
Every connection they open goes through `workers.netpolicy`, so a target that resolves to a
private address is refused unless the caller allows private targets.
"""
