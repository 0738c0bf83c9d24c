"""Start-up shared by every role: the domain layer and the broker, configured once per process."""
from __future__ import annotations

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
