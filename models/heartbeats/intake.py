"""Where the gateway puts a signal before it answers: the Redis stream when Redis is
configured (flushers store it in batches), else straight into the database (embedded)."""
from __future__ import annotations

import redis

from models import clock
from models.heartbeats import ingest
from models.heartbeats.signals import Signal
from models.heartbeats.stream import SignalStream


class StreamIntake:
    def __init__(self, redis_url: str):
        self.stream = SignalStream(redis.Redis.from_url(redis_url, socket_timeout=5,
                                                        health_check_interval=30))

    def accept(self, signal: Signal) -> None:
        self.stream.publish(signal)


class DatabaseIntake:
    def accept(self, signal: Signal) -> None:
        ingest.store([signal], now=clock.now())


def intake_for(settings):
    return StreamIntake(settings.redis_url) if settings.redis_url else DatabaseIntake()
