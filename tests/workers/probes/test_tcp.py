"""The port probe against real TCP, SMTP, POP3 and IMAP servers on loopback."""
from __future__ import annotations

import time

import pytest
import trustme

from pinghome.localservers import free_port
from tests.polling import wait_until
from tests.probe_servers import MailServer, SilentServer, TcpListener
from workers.probes.tcp import probe_port

GOODBYE = {"smtp": "QUIT", "pop3": "QUIT", "imap": "p3 LOGOUT"}


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def certificate(ca):
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def serve():
    """Starts the servers a test hands it, and stops them after the test."""
    started = []
    yield lambda server: started.append(server.start()) or server
    for server in started:
        server.stop()


@pytest.mark.parametrize("protocol", [None, "tcp"])
def test_a_listening_port_is_reached_with_its_timings(serve, protocol):
    listener = serve(TcpListener())
    result = probe_port("127.0.0.1", listener.port, protocol=protocol, timeout=2,
                        allow_private=True)
    assert result.ok and result.error is None
    assert result.details == {"address": "127.0.0.1", "protocol": "tcp"}
    assert set(result.timings) == {"connect_ms", "total_ms"}
    assert result.response_ms == result.timings["total_ms"] >= result.timings["connect_ms"]


def test_a_closed_port_is_refused():
    result = probe_port("127.0.0.1", free_port(), timeout=2, allow_private=True)
    assert not result.ok and result.error == "connection refused"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
@pytest.mark.parametrize("protocol", [None, "smtp"])
def test_private_targets_are_refused_unless_allowed(serve, certificate, host, protocol):
    server = serve(MailServer("smtp", certificate=certificate))
    refused = probe_port(host, server.port, protocol=protocol, timeout=2, allow_private=False)
    assert not refused.ok and "may not reach" in refused.error
    assert server.commands == []
    assert probe_port(host, server.port, protocol=protocol, timeout=2, allow_private=True).ok


@pytest.mark.parametrize("protocol", ["smtp", "pop3", "imap"])
def test_a_mail_server_greets_and_upgrades_to_verified_tls(serve, certificate, ca_file, protocol):
    server = serve(MailServer(protocol, certificate=certificate))
    result = probe_port("127.0.0.1", server.port, protocol=protocol, timeout=5,
                        allow_private=True, ca_file=ca_file)
    assert result.ok, result.error
    details = result.details
    assert details["greeting"] == server.greeting and details["protocol"] == protocol
    assert (details["starttls"], details["tls_verified"]) == (True, True)
    assert details["tls_version"].startswith("TLSv1") and details["address"] == "127.0.0.1"
    assert set(result.timings) == {"connect_ms", "tls_ms", "total_ms"}
    assert server.tls_sessions == 1
    wait_until(lambda: GOODBYE[protocol] in server.commands, timeout=5,
               message="the probe said goodbye over TLS")


@pytest.mark.parametrize("protocol", ["smtp", "pop3", "imap"])
def test_an_untrusted_certificate_still_passes_the_greeting_check(serve, certificate, protocol):
    server = serve(MailServer(protocol, certificate=certificate))
    result = probe_port("127.0.0.1", server.port, protocol=protocol, timeout=5,
                        allow_private=True)
    assert result.ok and result.error is None
    assert (result.details["starttls"], result.details["tls_verified"]) == (True, False)
    assert "certificate not trusted" in result.details["tls_error"]


@pytest.mark.parametrize("protocol", ["smtp", "pop3", "imap"])
def test_a_server_without_starttls_is_recorded_as_not_offering_it(serve, protocol):
    server = serve(MailServer(protocol))
    result = probe_port("127.0.0.1", server.port, protocol=protocol, timeout=5,
                        allow_private=True)
    assert result.ok and result.details["starttls"] is None
    assert "tls_ms" not in result.timings
    wait_until(lambda: GOODBYE[protocol] in server.commands, timeout=5)


@pytest.mark.parametrize("protocol, refusal", [
    ("smtp", "STARTTLS refused: 454 4.7.0 TLS not available"),
    ("pop3", "STARTTLS refused: -ERR TLS not available"),
    ("imap", "STARTTLS refused: NO TLS not available"),
])
def test_a_refused_starttls_is_recorded_and_the_session_ends_politely(serve, certificate,
                                                                      protocol, refusal):
    server = serve(MailServer(protocol, certificate=certificate, refuse_tls=True))
    result = probe_port("127.0.0.1", server.port, protocol=protocol, timeout=5,
                        allow_private=True)
    assert result.ok
    assert (result.details["starttls"], result.details["tls_error"]) == (False, refusal)
    wait_until(lambda: GOODBYE[protocol] in server.commands, timeout=5)


def test_data_sent_before_the_tls_handshake_gets_no_tls_session(serve, certificate, ca_file):
    # a server (or a man in the middle) that answers STARTTLS and more at once could have the
    # extra reply read as if it had come over TLS
    server = serve(MailServer("smtp", certificate=certificate, inject="250 injected"))
    result = probe_port("127.0.0.1", server.port, protocol="smtp", timeout=5,
                        allow_private=True, ca_file=ca_file)
    assert result.ok and result.details["starttls"] is False
    assert result.details["tls_error"] == "the server sent data before the handshake"
    assert server.tls_sessions == 0


@pytest.mark.parametrize("protocol, greeting, error", [
    ("smtp", "554 5.7.1 No SMTP service here", "the SMTP server refused the session: 554"),
    ("smtp", "421 4.3.2 Too busy, try later", "the SMTP server refused the session: 421"),
    ("smtp", "HTTP/1.1 400 Bad Request", "SMTP greeting expected, got 'HTTP/1.1 400"),
    ("smtp", "+OK POP3 server ready", "SMTP greeting expected, got '+OK"),
    ("pop3", "-ERR [SYS/TEMP] server busy", "the POP3 server refused the session: -ERR"),
    ("pop3", "220 mail.test ESMTP", "POP3 greeting expected, got '220"),
    ("imap", "* BYE too many connections", "the IMAP server refused the session: * BYE"),
    ("imap", "+OK POP3 server ready", "IMAP greeting expected, got '+OK"),
])
def test_a_wrong_greeting_fails_with_what_the_server_said(serve, protocol, greeting, error):
    server = serve(MailServer(protocol, greeting=greeting))
    result = probe_port("127.0.0.1", server.port, protocol=protocol, timeout=5,
                        allow_private=True)
    assert not result.ok and result.error.startswith(error)
    assert result.details["greeting"] == greeting


def test_a_multi_line_smtp_greeting_is_accepted(serve):
    server = serve(MailServer("smtp", greeting="220-mail.test ESMTP\n220-welcome\n220 ready"))
    result = probe_port("127.0.0.1", server.port, protocol="smtp", timeout=5,
                        allow_private=True)
    assert result.ok and result.details["greeting"] == "220-mail.test ESMTP"
    wait_until(lambda: "QUIT" in server.commands, timeout=5)


def test_a_long_greeting_is_trimmed(serve):
    server = serve(MailServer("smtp", greeting="220 " + "x" * 1000))
    result = probe_port("127.0.0.1", server.port, protocol="smtp", timeout=5,
                        allow_private=True)
    assert result.ok and result.details["greeting"] == ("220 " + "x" * 1000)[:200]


@pytest.mark.parametrize("protocol", ["smtp", "pop3", "imap"])
def test_a_silent_server_times_out_waiting_for_the_greeting(serve, protocol):
    server = serve(SilentServer())
    started = time.monotonic()
    result = probe_port("127.0.0.1", server.port, protocol=protocol, timeout=0.3,
                        allow_private=True)
    assert not result.ok and result.error == "timed out waiting for the greeting"
    assert time.monotonic() - started < 2


def test_a_server_that_hangs_up_is_a_clear_failure(serve):
    server = serve(TcpListener())
    result = probe_port("127.0.0.1", server.port, protocol="smtp", timeout=2,
                        allow_private=True)
    assert not result.ok
    assert result.error in ("the server closed the connection before the greeting",
                            "connection reset by the server")


def test_an_unknown_protocol_is_the_callers_mistake():
    with pytest.raises(ValueError, match="unknown protocol 'gopher'"):
        probe_port("127.0.0.1", 70, protocol="gopher", timeout=1, allow_private=True)
