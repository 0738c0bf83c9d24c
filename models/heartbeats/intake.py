"""Where the gateway puts a signal before it answers: the Redis stream when Redis is
configured (flushers store it in batches), else straight into the database (embedded)."""
from __future__ import annotations

from models import clock
from models.heartbeats import ingest
from models.heartbeats.signals import Signal
from models.heartbeats.stream import SignalStream


class StreamIntake:
    def __init__(self, stream: SignalStream):
        self.stream = stream

    def accept(self, signal: Signal) -> None:
        self.stream.publish(signal)


class DatabaseIntake:
    def accept(self, signal: Signal) -> None:
        ingest.store([signal], now=clock.now())


def intake_for(stream: SignalStream | None):
    """Into `stream` (`stream_for(settings)`), or the database when there is none."""
    return StreamIntake(stream) if stream is not None else DatabaseIntake()
