"""Real servers on loopback for the probe tests: a TCP listener, SMTP/POP3/IMAP greeters with
STARTTLS, TLS servers, an RDAP service with its IANA-style bootstrap file, and WHOIS servers.

Each runs in threads of this process on 127.0.0.1 and a free port: `start()` returns it
serving, `stop()` shuts it down and waits for its loop to end.
"""
from __future__ import annotations

import contextlib
import json
import socket
import socketserver
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import trustme


class LoopbackServer:
    """A threaded TCP server on 127.0.0.1 whose every connection `serve(conn)` handles."""

    def __init__(self, serve: Callable[[socket.socket], None]):
        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                self.request.settimeout(10)   # a client that vanishes frees its thread
                with contextlib.suppress(OSError):
                    serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


class TcpListener(LoopbackServer):
    """Accepts connections and hangs up at once."""

    def __init__(self):
        super().__init__(lambda conn: None)


class SilentServer(LoopbackServer):
    """Accepts connections and says nothing until the client hangs up."""

    def __init__(self):
        super().__init__(self._listen)

    @staticmethod
    def _listen(conn: socket.socket) -> None:
        while conn.recv(4096):
            continue


GREETINGS = {"smtp": "220 mail.test ESMTP ready", "pop3": "+OK POP3 server ready",
             "imap": "* OK [CAPABILITY IMAP4rev1] IMAP server ready"}


class MailServer(LoopbackServer):
    """Just enough SMTP, POP3 or IMAP for the port probe. It greets with `greeting` (the
    protocol's own by default), lists its capabilities, offers STARTTLS when it has a
    `certificate` (refusing the command if `refuse_tls`; sending `inject` right after
    agreeing, as a server open to STARTTLS injection would) and keeps the commands it
    receives and the number of TLS sessions established."""

    def __init__(self, protocol: str, *, certificate: trustme.LeafCert | None = None,
                 greeting: str | None = None, refuse_tls: bool = False, inject: str = ""):
        self.protocol, self.certificate = protocol, certificate
        self.greeting = GREETINGS[protocol] if greeting is None else greeting
        self.refuse_tls, self.inject = refuse_tls, inject
        self.commands: list[str] = []
        self.tls_sessions = 0
        super().__init__(self._converse)

    def _converse(self, conn: socket.socket) -> None:
        conn.sendall(self.greeting.replace("\n", "\r\n").encode() + b"\r\n")
        reader = conn.makefile("rb")
        while line := reader.readline():
            command = line.decode("utf-8", "replace").strip()
            self.commands.append(command)
            answer, action = getattr(self, f"_{self.protocol}")(command.split() or [""])
            conn.sendall(answer.replace("\n", "\r\n").encode() + b"\r\n")
            if action == "close":
                break
            if action == "tls":
                conn = self._upgrade(conn)
                reader = conn.makefile("rb")
        conn.close()      # after an upgrade, the TLS socket the caller does not know of

    def _upgrade(self, conn: socket.socket) -> ssl.SSLSocket:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.certificate.configure_cert(context)
        tls = context.wrap_socket(conn, server_side=True)
        self.tls_sessions += 1
        return tls

    def _tls_answer(self, agreed: str, refused: str) -> tuple[str, str | None]:
        if self.refuse_tls or not self.certificate:
            return refused, None
        return agreed + (f"\n{self.inject}" if self.inject else ""), "tls"

    def _smtp(self, words: list[str]) -> tuple[str, str | None]:
        verb = words[0].upper()
        if verb == "EHLO":
            keywords = ["mail.test", "SIZE 10240000"] + (["STARTTLS"] if self.certificate else [])
            return "\n".join(f"250{'-' if i < len(keywords) - 1 else ' '}{k}"
                             for i, k in enumerate(keywords)), None
        if verb == "STARTTLS":
            return self._tls_answer("220 2.0.0 Ready to start TLS", "454 4.7.0 TLS not available")
        if verb == "QUIT":
            return "221 2.0.0 Bye", "close"
        return "502 5.5.2 Command not recognized", None

    def _pop3(self, words: list[str]) -> tuple[str, str | None]:
        verb = words[0].upper()
        if verb == "CAPA":
            return "+OK Capability list follows\nUSER\n" + ("STLS\n" if self.certificate else "") \
                + ".", None
        if verb == "STLS":
            return self._tls_answer("+OK Begin TLS negotiation", "-ERR TLS not available")
        if verb == "QUIT":
            return "+OK Bye", "close"
        return "-ERR Unknown command", None

    def _imap(self, words: list[str]) -> tuple[str, str | None]:
        tag, verb = words[0], (words[1:] or [""])[0].upper()
        if verb == "CAPABILITY":
            offer = " STARTTLS" if self.certificate else ""
            return f"* CAPABILITY IMAP4rev1{offer} LOGINDISABLED\n{tag} OK CAPABILITY done", None
        if verb == "STARTTLS":
            return self._tls_answer(f"{tag} OK Begin TLS negotiation",
                                    f"{tag} NO TLS not available")
        if verb == "LOGOUT":
            return f"* BYE Logging out\n{tag} OK LOGOUT done", "close"
        return f"{tag} BAD Unknown command", None


class TlsServer(LoopbackServer):
    """Completes TLS handshakes with the certificate `configure` puts into its context, then
    waits for the client to hang up."""

    def __init__(self, configure: Callable[[ssl.SSLContext], None]):
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        configure(self.context)
        super().__init__(self._handshake)

    def _handshake(self, conn: socket.socket) -> None:
        with self.context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)


def serve_as_self_signed(ca: trustme.CA) -> Callable[[ssl.SSLContext], None]:
    """Configures a context to present the CA's own (self-signed) certificate."""
    def configure(context: ssl.SSLContext) -> None:
        with ca.cert_pem.tempfile() as cert, ca.private_key_pem.tempfile() as key:
            context.load_cert_chain(cert, key)
    return configure


class RdapServer:
    """An RDAP service (RFC 9082) on loopback. `bootstrap_url` serves an IANA-style bootstrap
    file (RFC 9224) naming this service for `tlds` and its /other/ path for "co.<tld>";
    `domains` maps a domain name to its RDAP object; other names are 404. With
    `failing_with` (`bootstrap_failing_with`) set, every domain query (every fetch of the
    bootstrap file) answers that HTTP status."""

    def __init__(self, tlds: tuple[str, ...] = ("test",)):
        self.tlds = tlds
        self.domains: dict[str, dict] = {}
        self.failing_with: int | None = None
        self.bootstrap_failing_with: int | None = None
        self.requests: list[tuple[str, dict]] = []     # (path, lower-case headers)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def do_GET(self):
                owner.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                status, document = owner.answer(self.path)
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/rdap+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.bootstrap_url = f"{self.url}/bootstrap/dns.json"
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, path: str) -> tuple[int, dict]:
        if path.startswith("/bootstrap/") and self.bootstrap_failing_with:
            return self.bootstrap_failing_with, {"errorCode": self.bootstrap_failing_with}
        if path.startswith("/bootstrap/"):
            return 200, {"version": "1.0", "publication": "2026-01-01T00:00:00Z", "services": [
                [[f"co.{tld}" for tld in self.tlds], [f"{self.url}/other/"]],
                [list(self.tlds), [f"{self.url}/rdap/"]]]}
        name = path.rsplit("/domain/", 1)[-1]
        if "/domain/" in path and self.failing_with:
            return self.failing_with, {"errorCode": self.failing_with}
        if "/domain/" in path and name in self.domains:
            return 200, self.domains[name]
        return 404, {"errorCode": 404, "title": "Not Found"}

    def start(self) -> "RdapServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()


def rdap_domain(name: str, *, expires_at: str | None,
                registered_at: str = "2001-02-03T04:05:06Z",
                updated_at: str = "2025-06-07T08:09:10Z",
                registrar: str = "Example Registrar, Inc.",
                status=("client transfer prohibited",),
                nameservers=("NS1.EXAMPLE.NET", "ns2.example.net")) -> dict:
    """An RDAP domain object (RFC 9083) as registries publish them."""
    events = [{"eventAction": "registration", "eventDate": registered_at},
              {"eventAction": "last changed", "eventDate": updated_at},
              {"eventAction": "last update of RDAP database", "eventDate": "2026-01-01T00:00:00Z"}]
    if expires_at:
        events.append({"eventAction": "expiration", "eventDate": expires_at})
    return {"objectClassName": "domain", "ldhName": name.upper(), "status": list(status),
            "events": events, "nameservers": [{"objectClassName": "nameserver", "ldhName": ns}
                                               for ns in nameservers],
            "entities": [{"objectClassName": "entity", "roles": ["technical"],
                          "vcardArray": ["vcard", [["fn", {}, "text", "Hostmaster"]]]},
                         {"objectClassName": "entity", "roles": ["registrar"],
                          "vcardArray": ["vcard", [["version", {}, "text", "4.0"],
                                                   ["fn", {}, "text", registrar]]]}]}


class WhoisServer(LoopbackServer):
    """A WHOIS server (RFC 3912): answers each one-line query from `records` (query -> text),
    or with "No match for" as registries do, and keeps the queries it received."""

    def __init__(self, records: dict[str, str] | None = None):
        self.records = dict(records or {})
        self.queries: list[str] = []
        super().__init__(self._answer)

    def _answer(self, conn: socket.socket) -> None:
        query = conn.makefile("rb").readline().decode("utf-8", "replace").strip()
        self.queries.append(query)
        text = self.records.get(query, f'No match for "{query.upper()}".\n')
        conn.sendall(text.replace("\n", "\r\n").encode())
