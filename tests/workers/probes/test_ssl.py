"""The certificate probe against TLS servers on loopback with certificates from a test CA.

OpenSSL checks validity dates by the machine's clock, so the certificates are issued around
the real present (`NOW`), and the probe is handed that same instant as its `now`.
"""
from __future__ import annotations

import datetime as dt

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from pinghome.localservers import free_port
from tests.probe_servers import (MailServer, SilentServer, TcpListener, TlsServer,
                                 serve_as_self_signed)
from workers.probes.ssl import probe_ssl

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def ca():
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca, tmp_path_factory):
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def serve():
    """Serves a certificate (a trustme leaf, or a context-configuring function) over TLS on
    loopback for the test's length; answers the port."""
    started = []

    def start(certificate):
        configure = getattr(certificate, "configure_cert", certificate)
        started.append(TlsServer(configure).start())
        return started[-1].port
    yield start
    for server in started:
        server.stop()


def _leaf(ca, *names, not_before=NOW - DAY, not_after=NOW + 30 * DAY):
    return ca.issue_cert(*(names or ("127.0.0.1", "localhost")), not_before=not_before,
                         not_after=not_after)


def test_a_trusted_certificate_for_the_right_name_is_valid(ca, ca_file, serve):
    leaf = _leaf(ca)
    result = probe_ssl("127.0.0.1", serve(leaf), timeout=5, allow_private=True,
                       ca_file=ca_file, now=NOW)
    assert result.ok and result.error is None
    expected = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes())
    issuer = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).subject.rfc4514_string()
    assert result.details == {
        "valid": True, "error": None, "issuer": issuer,
        "subject": expected.subject.rfc4514_string(), "names": ["localhost"],
        "ip_names": ["127.0.0.1"],
        "valid_from": (NOW - DAY).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "valid_until": (NOW + 30 * DAY).strftime("%Y-%m-%dT%H:%M:%SZ"), "days_left": 30,
        "serial": format(expected.serial_number, "x"),
        "fingerprint_sha256": expected.fingerprint(hashes.SHA256()).hex(),
        "protocol": "TLSv1.3", "address": "127.0.0.1"}
    assert set(result.timings) == {"connect_ms", "tls_ms", "total_ms"}
    assert result.response_ms == result.timings["total_ms"]


def test_the_server_name_is_sent_and_checked_instead_of_the_host(ca, ca_file, serve):
    port = serve(_leaf(ca, "www.example.test"))
    named = probe_ssl("127.0.0.1", port, server_name="www.example.test", timeout=5,
                      allow_private=True, ca_file=ca_file, now=NOW)
    assert named.ok and named.details["names"] == ["www.example.test"]
    unnamed = probe_ssl("127.0.0.1", port, timeout=5, allow_private=True, ca_file=ca_file,
                        now=NOW)
    assert unnamed.error == ("hostname mismatch: the certificate is for www.example.test, "
                             "not 127.0.0.1")


def test_an_expired_certificate_is_not_valid(ca, ca_file, serve):
    leaf = _leaf(ca, not_before=NOW - 90 * DAY, not_after=NOW - DAY)
    result = probe_ssl("127.0.0.1", serve(leaf), timeout=5, allow_private=True,
                       ca_file=ca_file, now=NOW)
    expired_on = (NOW - DAY).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert not result.ok and result.error == f"certificate expired on {expired_on}"
    assert result.details["valid"] is False and result.details["error"] == result.error
    assert (result.details["valid_until"], result.details["days_left"]) == (expired_on, -1)


@pytest.mark.parametrize("now, error, days_left", [
    (NOW + 31 * DAY, "certificate expired on", -1),
    (NOW - 2 * DAY, "certificate not valid before", 32),
    (NOW + 29 * DAY + dt.timedelta(hours=23), None, 0),
])
def test_the_dates_are_judged_at_the_callers_now(ca, ca_file, serve, now, error, days_left):
    result = probe_ssl("127.0.0.1", serve(_leaf(ca)), timeout=5, allow_private=True,
                       ca_file=ca_file, now=now)
    assert result.ok is (error is None)
    assert (result.error or "").startswith(error or "")
    assert result.details["days_left"] == days_left


def test_a_certificate_for_another_name_is_not_valid(ca, ca_file, serve):
    result = probe_ssl("127.0.0.1", serve(_leaf(ca, "other.test", "*.other.test")), timeout=5,
                       allow_private=True, ca_file=ca_file, now=NOW)
    assert not result.ok
    assert result.error == ("hostname mismatch: the certificate is for other.test, "
                            "*.other.test, not 127.0.0.1")
    assert result.details["names"] == ["other.test", "*.other.test"]


def test_a_certificate_from_an_unknown_ca_is_not_valid(ca, serve):
    result = probe_ssl("127.0.0.1", serve(_leaf(ca)), timeout=5, allow_private=True, now=NOW)
    assert not result.ok and result.error == "certificate issued by an unknown CA"
    assert result.details["days_left"] == 30 and result.details["names"] == ["localhost"]


def test_a_self_signed_certificate_is_not_valid(ca, serve):
    result = probe_ssl("127.0.0.1", serve(serve_as_self_signed(ca)), timeout=5,
                       allow_private=True, now=NOW)
    assert not result.ok and result.error == "self-signed certificate"
    assert result.details["issuer"] == result.details["subject"]


@pytest.mark.parametrize("server, error", [
    (TcpListener, "TLS handshake failed"),
    (lambda: MailServer("smtp"), "TLS handshake failed (wrong version number)"),
    (SilentServer, "timed out during the TLS handshake"),
])
def test_a_server_that_does_not_complete_a_handshake_fails_without_details(server, error):
    running = server().start()
    try:
        result = probe_ssl("127.0.0.1", running.port, timeout=0.5, allow_private=True, now=NOW)
    finally:
        running.stop()
    assert not result.ok and result.error.startswith(error) and result.details == {}


def test_a_closed_port_fails_without_details():
    result = probe_ssl("127.0.0.1", free_port(), timeout=2, allow_private=True, now=NOW)
    assert not result.ok and result.error == "connection refused" and result.details == {}


def test_private_targets_are_refused_unless_allowed(ca, ca_file, serve):
    port = serve(_leaf(ca))
    refused = probe_ssl("localhost", port, timeout=2, allow_private=False, ca_file=ca_file,
                        now=NOW)
    assert not refused.ok and "may not reach" in refused.error and refused.details == {}
    assert probe_ssl("localhost", port, timeout=2, allow_private=True, ca_file=ca_file,
                     now=NOW).ok
