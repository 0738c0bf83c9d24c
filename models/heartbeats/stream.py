"""The heartbeat signals' stream (`models.streams`): a signal is a packed `heartbeat_event`
row (`packing`)."""
from __future__ import annotations

from models.heartbeats.packing import pack, unpack
from models.heartbeats.signals import Signal
from models.streams import Stream, client_for

STREAM = "pinghome:heartbeat-signals"
UNSTORABLE = f"{STREAM}:unstorable"


class SignalStream(Stream):
    def __init__(self, client):
        super().__init__(client, STREAM, decode=unpack)

    def publish(self, signal: Signal) -> None:
        """Returns once the signal is in Redis (raises if it could not be written)."""
        self.append(pack(signal))


def stream_for(settings) -> SignalStream | None:
    """The stream of the configured Redis; None when embedded (no Redis: no stream)."""
    return SignalStream(client_for(settings)) if settings.redis_url else None
