"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, or refuses on demand."""
from __future__ import annotations

import dataclasses
import email
import email.policy
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from pinghome.localservers import free_port


@dataclasses.dataclass
class Received:
    to: list[str]
    message: email.message.EmailMessage

    @property
    def subject(self) -> str:
        return self.message["Subject"]

    @property
    def body(self) -> str:
        return self.message.get_content()


class SmtpSink:
    def __init__(self, *, username: str | None = None, password: str | None = None):
        self.messages: list[Received] = []
        self.refuse_next = 0
        self._lock = threading.Lock()
        self._credentials = (username, password) if username else None
        self.port = free_port()
        options = {}
        if self._credentials:
            # PLAIN only: after a refused PLAIN, smtplib falls back to LOGIN, whose
            # challenge aiosmtpd's handling leaves hanging until the client times out
            options = dict(authenticator=self._authenticate, auth_require_tls=False,
                           auth_required=True, auth_exclude_mechanism=["LOGIN"])
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    @property
    def url(self) -> str:
        if self._credentials:
            user, password = self._credentials
            return f"smtp://{user}:{password}@127.0.0.1:{self.port}"
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.refuse_next = 0

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login.decode(), auth_data.password.decode()) == self._credentials
        return AuthResult(success=ok, handled=False)   # unhandled: aiosmtpd answers 535

    async def handle_DATA(self, server, session, envelope):
        with self._lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return "451 4.3.0 Try again later"
            message = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
            self.messages.append(Received(list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if address in m.to]

    def wait_for(self, address: str, count: int = 1, timeout: float = 20) -> list[Received]:
        """Polls until `count` messages to `address` arrived; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(address)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"{count} message(s) to {address} expected, got {len(self.to(address))}")
