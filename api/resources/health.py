"""Endpoint 93: the health of this process's dependencies."""
from __future__ import annotations

import falcon

from models import clock, health


class HealthCheck:
    PUBLIC = {"GET"}

    def __init__(self, broker_check, signals=None):
        self.broker_check = broker_check
        self.signals = signals

    def on_get(self, req, resp):
        """Check service health: database, broker, clock offsets and how far heartbeat
        signals wait to be stored; 503 when a dependency is down."""
        healthy, body = health.report(broker_check=self.broker_check, now=clock.now(),
                                      signals=self.signals)
        resp.status = falcon.HTTP_200 if healthy else falcon.HTTP_503
        resp.media = body
