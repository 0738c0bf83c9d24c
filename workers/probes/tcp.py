"""The port probe: a TCP connect and, for SMTP, POP3 and IMAP, the server's greeting.

A mail server speaks first. The probe reads its greeting, asks for its capabilities, upgrades to
TLS when STARTTLS is offered and says goodbye. A wrong greeting fails the probe; TLS does not:
whether the upgrade worked and the certificate verified is recorded in the details, for the
domain to judge. `describe`, `elapsed_ms`, `time_left` and `verifying_context` serve the
other socket-level probes too.
"""
from __future__ import annotations

import contextlib
import socket
import ssl
import time

from workers import netpolicy
from workers.probes.result import ProbeResult

GREETING_CHARS = 200
MAX_LINE_BYTES = 8192


def probe_port(host: str, port: int, *, protocol: str | None = None, timeout: float,
               allow_private: bool, ca_file: str | None = None) -> ProbeResult:
    """Connects to `host:port` within `timeout` seconds; for protocol "smtp", "pop3" or "imap"
    also checks the greeting and tries STARTTLS (verified against the system's CAs and
    `ca_file`). Never raises for a network failure: `ok=False` with a short `error` instead."""
    if (protocol or "tcp") not in _DIALECTS:
        raise ValueError(f"unknown protocol {protocol!r}")
    dialect = _DIALECTS[protocol or "tcp"]
    started = time.monotonic()
    try:
        sock = netpolicy.connect(host, port, timeout=timeout, allow_private=allow_private)
    except OSError as exc:
        return _finish(started, {}, {}, describe(exc, doing="connecting"))
    timings = {"connect_ms": elapsed_ms(started)}
    with contextlib.closing(_Session(sock, host, started + timeout, ca_file)) as session:
        details = {"address": sock.getpeername()[0], "protocol": protocol or "tcp"}
        error = _converse(session, dialect, details, timings) if dialect else None
    return _finish(started, timings, details, error)


_REASONS = (
    (netpolicy.PrivateAddressRefused, str),
    (socket.gaierror, lambda exc: "could not resolve the host name"),
    (ConnectionRefusedError, lambda exc: "connection refused"),
    (ConnectionResetError, lambda exc: "connection reset by the server"),
    (ssl.SSLCertVerificationError, lambda exc: f"certificate not trusted: {exc.verify_message}"),
    (ssl.SSLError, lambda exc: "TLS handshake failed" + (
        f" ({exc.reason.lower().replace('_', ' ')})" if exc.reason else "")),
)


def describe(exc: BaseException, *, doing: str = "") -> str:
    """A short reason for a failed network operation, such as "connection refused"."""
    if isinstance(exc, TimeoutError):
        return f"timed out {doing}".strip()
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason(exc)
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started` (a `time.monotonic()` reading)."""
    return round((time.monotonic() - started) * 1000, 3)


def time_left(deadline: float) -> float:
    """Seconds until `deadline` (monotonic); `TimeoutError` once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _finish(started: float, timings: dict, details: dict, error: str | None) -> ProbeResult:
    timings = {**timings, "total_ms": elapsed_ms(started)}
    return ProbeResult(ok=error is None, error=error, response_ms=timings["total_ms"],
                       timings=timings, details=details)


class _Unexpected(Exception):
    """The server said something its protocol does not allow here."""


class _Closed(ConnectionError):
    """The server hung up in the middle of the conversation."""


class _Session:
    """A line-by-line conversation on one connection, every wait bounded by the deadline."""

    def __init__(self, sock: socket.socket, host: str, deadline: float, ca_file: str | None):
        self.sock, self.host, self.deadline, self.ca_file = sock, host, deadline, ca_file
        self.buffer = b""
        self.step = "the greeting"
        self.usable = True

    def say(self, command: str, *, name: str | None = None) -> None:
        self.step = f"the answer to {name or command.split()[0]}"
        self._arm()
        self.sock.sendall(command.encode("ascii") + b"\r\n")

    def line(self) -> str:
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_LINE_BYTES:
                raise _Unexpected(f"a line longer than {MAX_LINE_BYTES} bytes in {self.step}")
            self._arm()
            chunk = self.sock.recv(4096)
            if not chunk:
                raise _Closed(f"the server closed the connection before {self.step}")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def upgrade(self, details: dict, timings: dict) -> None:
        """TLS on this connection, after the server agreed to STARTTLS."""
        started = time.monotonic()
        self.usable = False
        if self.buffer:
            # anything sent before the handshake would be read as if it came over TLS
            # (the STARTTLS injection flaw), so such a server gets no TLS session from us
            details.update(starttls=False, tls_error="the server sent data before the handshake")
            return
        try:
            self._arm()
            context = verifying_context(self.ca_file)
            self.sock = context.wrap_socket(self.sock, server_hostname=self.host)
            self.usable = True
            details.update(starttls=True, tls_verified=True, tls_version=self.sock.version())
        except ssl.SSLCertVerificationError as exc:
            # OpenSSL checks the certificate once the key exchange is done: TLS itself works
            details.update(starttls=True, tls_verified=False, tls_error=describe(exc))
        except OSError as exc:
            details.update(starttls=False, tls_error=describe(exc, doing="during the handshake"))
        finally:
            timings["tls_ms"] = elapsed_ms(started)

    def close(self) -> None:
        self.sock.close()     # the TLS socket after an upgrade, else the plain one

    def _arm(self) -> None:
        self.sock.settimeout(time_left(self.deadline))


def verifying_context(ca_file: str | None) -> ssl.SSLContext:
    """A client TLS context that verifies chain and name against the system's CAs, plus
    those of `ca_file` when given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


def _converse(session: _Session, dialect, details: dict, timings: dict) -> str | None:
    """Greeting, capabilities, STARTTLS if offered, goodbye; the error if any step failed."""
    try:
        greeting = dialect.read_greeting(session)
        details["greeting"] = greeting[:GREETING_CHARS]
        dialect.check_greeting(greeting)
        details["starttls"] = None
        if dialect.offers_tls(session):
            refusal = dialect.start_tls(session)
            if refusal is None:
                session.upgrade(details, timings)
            else:
                details.update(starttls=False, tls_error=f"STARTTLS refused: {refusal[:100]}")
    except _Unexpected as exc:
        return str(exc)
    except OSError as exc:
        return describe(exc, doing=f"waiting for {session.step}")
    if session.usable:
        with contextlib.suppress(OSError, _Unexpected):   # the greeting has been judged
            dialect.goodbye(session)
    return None


def _refused_or_foreign(name: str, greeting: str, refusal: bool) -> _Unexpected:
    if refusal:
        return _Unexpected(f"the {name} server refused the session: {greeting[:GREETING_CHARS]}")
    return _Unexpected(f"{name} greeting expected, got {greeting[:GREETING_CHARS]!r}")


class _Smtp:
    """RFC 5321 with RFC 3207 (STARTTLS)."""

    @staticmethod
    def reply(session: _Session) -> tuple[int, list[str]]:
        lines = [session.line()]
        while lines[-1][3:4] == "-":
            lines.append(session.line())
        if not all(line[:3].isdigit() for line in lines):
            raise _Unexpected(f"not an SMTP reply in {session.step}: {lines[-1][:100]!r}")
        return int(lines[-1][:3]), [line[4:] for line in lines]

    @staticmethod
    def read_greeting(session: _Session) -> str:
        first = line = session.line()
        while line[:4] == "220-":
            line = session.line()
        return first

    @staticmethod
    def check_greeting(greeting: str) -> None:
        if greeting[:3] != "220":
            refusal = greeting[:1] in ("4", "5") and greeting[:3].isdigit()
            raise _refused_or_foreign("SMTP", greeting, refusal)

    @classmethod
    def offers_tls(cls, session: _Session) -> bool:
        own = session.sock.getsockname()[0]
        session.say(f"EHLO [{'IPv6:' if ':' in own else ''}{own}]")
        code, lines = cls.reply(session)
        return code == 250 and any(line.upper().split()[:1] == ["STARTTLS"] for line in lines)

    @classmethod
    def start_tls(cls, session: _Session) -> str | None:
        session.say("STARTTLS")
        code, lines = cls.reply(session)
        return None if code == 220 else f"{code} {lines[-1]}"

    @classmethod
    def goodbye(cls, session: _Session) -> None:
        session.say("QUIT")
        cls.reply(session)


class _Pop3:
    """RFC 1939 with RFC 2595 (STLS) and RFC 2449 (CAPA)."""

    read_greeting = staticmethod(_Session.line)

    @staticmethod
    def check_greeting(greeting: str) -> None:
        if not greeting.startswith("+OK"):
            raise _refused_or_foreign("POP3", greeting, greeting.startswith("-ERR"))

    @staticmethod
    def offers_tls(session: _Session) -> bool:
        session.say("CAPA")
        if not session.line().startswith("+OK"):
            return False      # a server without CAPA has no STLS to offer
        capabilities = []
        while (line := session.line()) != ".":
            capabilities.append(line.upper().split()[:1])
        return ["STLS"] in capabilities

    @staticmethod
    def start_tls(session: _Session) -> str | None:
        session.say("STLS")
        answer = session.line()
        return None if answer.startswith("+OK") else answer

    @staticmethod
    def goodbye(session: _Session) -> None:
        session.say("QUIT")
        session.line()


class _Imap:
    """RFC 9051 / 3501: tagged commands, untagged answers."""

    read_greeting = staticmethod(_Session.line)

    @staticmethod
    def tagged(session: _Session, tag: str, command: str) -> tuple[str, list[str]]:
        session.say(f"{tag} {command}", name=command)
        untagged = []
        while not (line := session.line()).startswith(f"{tag} "):
            untagged.append(line)
        return line[len(tag) + 1:], untagged

    @staticmethod
    def check_greeting(greeting: str) -> None:
        if not greeting.upper().startswith(("* OK", "* PREAUTH")):
            raise _refused_or_foreign("IMAP", greeting, greeting.upper().startswith("* BYE"))

    @classmethod
    def offers_tls(cls, session: _Session) -> bool:
        status, untagged = cls.tagged(session, "p1", "CAPABILITY")
        words = {word for line in untagged if line.upper().startswith("* CAPABILITY")
                 for word in line.upper().split()}
        return status.upper().startswith("OK") and "STARTTLS" in words

    @classmethod
    def start_tls(cls, session: _Session) -> str | None:
        status, _ = cls.tagged(session, "p2", "STARTTLS")
        return None if status.upper().startswith("OK") else status

    @classmethod
    def goodbye(cls, session: _Session) -> None:
        cls.tagged(session, "p3", "LOGOUT")


_DIALECTS = {"tcp": None, "smtp": _Smtp, "pop3": _Pop3, "imap": _Imap}
