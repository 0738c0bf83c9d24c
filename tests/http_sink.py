"""A real HTTP(S) server on loopback that records every request and answers as told: stands in
for webhook receivers, the SMS provider and the chat services in tests."""
from __future__ import annotations

import dataclasses
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import trustme

from tests.polling import wait_until


@dataclasses.dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)

    def form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    @property
    def route(self) -> str:
        return urlsplit(self.path).path


class HttpSink:
    def __init__(self, *, tls: bool = False, answers: dict | None = None,
                 host: str = "127.0.0.1"):
        self.requests: list[Request] = []
        self.default_answers = dict(answers or {})
        # path prefix -> (status, body) or (status, body, headers); the longest prefix wins
        self.answers: dict[str, tuple] = dict(self.default_answers)
        self.delays: dict[str, float] = {}        # path prefix -> seconds before answering
        self.by_region: dict[str, tuple] = {}     # X-Pinghome-Region -> answer, before `answers`
        self.released = threading.Event()         # set to cut every delay short
        self.in_flight = 0                        # requests received and not yet answered
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(self.command, self.path,
                                  {k.lower(): v for k, v in self.headers.items()},
                                  self.rfile.read(length))
                with sink._lock:
                    sink.requests.append(request)
                status, body, headers = sink.answer_for(request.route,
                                                        request.headers.get("x-pinghome-region"))
                delay = sink.delay_for(request.route)
                if delay:
                    with sink._lock:
                        sink.in_flight += 1
                    sink.released.wait(delay)
                    with sink._lock:
                        sink.in_flight -= 1
                self.send_response(status)
                headers = {"Content-Type": "application/json", **headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    try:
                        self.wfile.write(body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass     # the client gave up (a killed worker, a timed-out probe)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        self.host = host
        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.ca = None
        if tls:
            self.ca = trustme.CA()
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self.ca.issue_cert(host, "localhost").configure_cert(context)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def start(self) -> "HttpSink":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()

    def answer_for(self, route: str, region: str | None = None) -> tuple[int, bytes, dict]:
        if region in self.by_region:
            answer = self.by_region[region]
            return (*answer, {}) if len(answer) == 2 else answer
        for prefix, answer in sorted(self.answers.items(), key=lambda a: -len(a[0])):
            if route.startswith(prefix):
                return (*answer, {}) if len(answer) == 2 else answer
        return 200, b'{"ok": true, "result": {"message_id": 1, "chat": {"id": 1}}, "sid": "SM1"}', {}

    def delay_for(self, route: str) -> float:
        return max((d for prefix, d in self.delays.items() if route.startswith(prefix)), default=0)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.answers = dict(self.default_answers)
            self.delays.clear()
            self.by_region.clear()

    def received(self, prefix: str = "") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.route.startswith(prefix)]

    def wait_for(self, prefix: str = "", count: int = 1, timeout: float = 20) -> list[Request]:
        return wait_until(lambda: len(self.received(prefix)) >= count and self.received(prefix),
                          timeout=timeout, message=f"{count} request(s) to {prefix} expected, "
                                                   f"got {len(self.received(prefix))}")
