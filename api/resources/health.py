"""Endpoint 93: the health of this process's dependencies."""
from __future__ import annotations

import falcon

from models import clock, health


class HealthCheck:
    PUBLIC = {"GET"}

    def __init__(self, broker_check, signals=None, events=None):
        """`signals`, `events`: the heartbeat signals' and webhook events' streams (none
        embedded)."""
        self.broker_check = broker_check
        self.streams = {name: stream for name, stream in
                        (("heartbeat_signals", signals), ("webhook_events", events)) if stream}

    def on_get(self, req, resp):
        """Check service health: database, broker, clock offsets, whether this process can
        write what it takes in, and how far heartbeat signals and webhook events wait to be
        stored; 503 when a dependency is down."""
        healthy, body = health.report(broker_check=self.broker_check, now=clock.now(),
                                      streams=self.streams)
        resp.status = falcon.HTTP_200 if healthy else falcon.HTTP_503
        resp.media = body
