"""A tiny NTP server on loopback that reports the local clock shifted by a chosen offset."""
from __future__ import annotations

import socket
import threading
import time

import ntplib


class FakeNtpServer:
    def __init__(self, offset_seconds: float = 0.0):
        self.offset_seconds = offset_seconds
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "FakeNtpServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.sock.close()

    def _serve(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(1024)
            except OSError:
                return
            if peer is None:             # the socket was closed while waiting (stop)
                return
            request = ntplib.NTPPacket()
            try:
                request.from_data(data)
            except ntplib.NTPException:      # not an NTP request: no answer
                continue
            shifted = ntplib.system_to_ntp_time(time.time() + self.offset_seconds)
            reply = ntplib.NTPPacket(version=3, mode=4, tx_timestamp=shifted)
            reply.stratum = 2
            reply.orig_timestamp = request.tx_timestamp
            reply.recv_timestamp = shifted
            self.sock.sendto(reply.to_data(), peer)
