"""Steady load on a running system for the fault tests: heartbeat signals at a rate, with every
answer kept (time, status, signal id) for the test to hold against what was stored."""
from __future__ import annotations

import dataclasses
import http.client
import json
import threading
import time


@dataclasses.dataclass
class Answer:
    sent_at: float            # monotonic
    status: int               # 0: no HTTP answer at all (connection refused, timed out)
    signal_id: str | None


class SignalLoad:
    """Sends GET /v1/heartbeat/{id} round robin over `heartbeat_ids` at about `rate` a second
    from a few threads, until stopped."""

    def __init__(self, port: int, heartbeat_ids: list, *, rate: float = 200, threads: int = 4):
        self.port, self.ids, self.rate, self.threads = port, [str(i) for i in heartbeat_ids], \
            rate, threads
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []

    def start(self) -> "SignalLoad":
        for n in range(self.threads):
            thread = threading.Thread(target=self._send, args=(n,), daemon=True)
            thread.start()
            self._workers.append(thread)
        return self

    def stop(self) -> list[Answer]:
        self._stop.set()
        for thread in self._workers:
            thread.join(30)
        return self.answers

    def since(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.sent_at >= moment]

    def _send(self, n: int) -> None:
        gap = self.threads / self.rate
        count = n
        connection = None
        while not self._stop.is_set():
            started = time.monotonic()
            heartbeat_id = self.ids[count % len(self.ids)]
            count += self.threads
            status, signal_id = 0, None
            try:
                connection = connection or http.client.HTTPConnection("127.0.0.1", self.port,
                                                                      timeout=10)
                connection.request("GET", f"/v1/heartbeat/{heartbeat_id}?message=n{count}")
                response = connection.getresponse()
                body = response.read()
                status = response.status
                if status == 200:
                    signal_id = json.loads(body)["id"]
            except (OSError, http.client.HTTPException):
                if connection is not None:
                    connection.close()
                connection = None
            with self._lock:
                self.answers.append(Answer(started, status, signal_id))
            self._stop.wait(max(0.0, gap - (time.monotonic() - started)))
        if connection is not None:
            connection.close()
