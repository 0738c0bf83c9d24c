"""Start-up shared by every role: the domain layer and the broker, configured once per process."""
from __future__ import annotations

import gc

import dramatiq

from models import runtime as model_runtime
from workers.broker import setup_broker

_prepared: dict = {}


def prepare(settings) -> dramatiq.Broker:
    """Configures logging, the database, rate limits and the broker for `settings` and answers
    the broker; a second call with the same settings changes nothing."""
    if _prepared.get("settings") != settings:
        model_runtime.configure(settings)
        _prepared.update(settings=settings, broker=setup_broker(settings))
    return _prepared["broker"]


def settle_heap() -> None:
    """Tunes the garbage collector for a long-lived server process, once it has started.

    What start-up made (modules, the app, caches) moves to the permanent generation, so a
    full collection no longer walks it; and the youngest generation holds 50,000 objects
    rather than 700, so building one big answer (a month's report in hourly buckets makes
    about 20,000) costs a couple of collections rather than dozens. Cyclic garbage is still
    collected, a little later."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
