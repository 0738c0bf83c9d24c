"""The certificate probe: is the TLS certificate of host:port valid, and until when?

The first handshake verifies the chain (the system's CAs plus `ca_file`) and the name. When it
fails on the certificate, a second handshake without verification fetches the certificate
anyway, so the details always describe what the server presents, and why it is not valid.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import ssl
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from workers import netpolicy
from workers.probes.result import ProbeResult
from workers.probes.tcp import describe, elapsed_ms, time_left, verifying_context

# OpenSSL's X509_V_ERR_* codes we can say more plainly (x509_vfy.h)
_UNKNOWN_CA = "certificate issued by an unknown CA"
_VERIFY_REASONS = {
    2: _UNKNOWN_CA, 20: _UNKNOWN_CA, 21: _UNKNOWN_CA,
    18: "self-signed certificate",
    19: "self-signed certificate in the chain",
    23: "certificate revoked",
    26: "certificate not meant for TLS servers",
}
_EXPIRED, _NOT_YET_VALID, _NAME_MISMATCH, _ADDRESS_MISMATCH = 10, 9, 62, 64


class _ConnectTimeout(TimeoutError):
    """No TCP connection within the time left."""


@dataclasses.dataclass(frozen=True)
class _Handshake:
    address: str
    der: bytes
    protocol: str
    connect_ms: float
    tls_ms: float


def probe_ssl(host: str, port: int = 443, *, server_name: str | None = None, timeout: float,
              allow_private: bool, ca_file: str | None = None, now: dt.datetime) -> ProbeResult:
    """The certificate of `host:port` (SNI and name checked: `server_name` or `host`), judged
    at `now` (aware UTC). `ok` is the certificate's validity; `details` describe the
    certificate whenever one was received, and are empty when none was (connection or
    handshake failure). Never raises for a network failure."""
    started = time.monotonic()
    deadline, name = started + timeout, server_name or host
    try:
        handshake, problem = _handshakes(host, port, name, ca_file, deadline, allow_private)
        certificate = x509.load_der_x509_certificate(handshake.der)
    except OSError as exc:
        doing = "connecting" if isinstance(exc, _ConnectTimeout) else "during the TLS handshake"
        return _failure(describe(exc, doing=doing), started)
    except ValueError as exc:
        return _failure(f"the server's certificate cannot be read: {exc}", started)
    details = {**_facts(certificate, now), "protocol": handshake.protocol,
               "address": handshake.address}
    error = _judge(problem, certificate, details, name, now)
    details.update(valid=error is None, error=error)
    timings = {"connect_ms": handshake.connect_ms, "tls_ms": handshake.tls_ms,
               "total_ms": elapsed_ms(started)}
    return ProbeResult(ok=error is None, error=error, response_ms=timings["total_ms"],
                       timings=timings, details=details)


def _handshakes(host, port, name, ca_file, deadline, allow_private):
    """The verified handshake, or the unverified one and why verification failed."""
    try:
        verified = _handshake(host, port, name, verifying_context(ca_file), deadline,
                              allow_private)
        return verified, None
    except ssl.SSLCertVerificationError as exc:
        return _handshake(host, port, name, _trusting(), deadline, allow_private), exc


def _handshake(host, port, name, context, deadline, allow_private) -> _Handshake:
    started = time.monotonic()
    try:
        sock = netpolicy.connect(host, port, timeout=time_left(deadline),
                                 allow_private=allow_private)
    except TimeoutError as exc:
        raise _ConnectTimeout from exc
    connected = time.monotonic()
    with sock:
        sock.settimeout(time_left(deadline))
        with context.wrap_socket(sock, server_hostname=name) as tls:
            return _Handshake(address=tls.getpeername()[0],
                              der=tls.getpeercert(binary_form=True), protocol=tls.version(),
                              connect_ms=round((connected - started) * 1000, 3),
                              tls_ms=elapsed_ms(connected))


def _trusting() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def _facts(certificate: x509.Certificate, now: dt.datetime) -> dict:
    not_after = certificate.not_valid_after_utc
    return {"issuer": certificate.issuer.rfc4514_string(),
            "subject": certificate.subject.rfc4514_string(),
            "names": _alternative_names(certificate, x509.DNSName),
            "ip_names": [str(ip) for ip in _alternative_names(certificate, x509.IPAddress)],
            "valid_from": _iso(certificate.not_valid_before_utc),
            "valid_until": _iso(not_after),
            "days_left": math.floor((not_after - now).total_seconds() / 86400),
            "serial": format(certificate.serial_number, "x"),
            "fingerprint_sha256": certificate.fingerprint(hashes.SHA256()).hex()}


def _alternative_names(certificate: x509.Certificate, kind) -> list:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return extension.value.get_values_for_type(kind)


def _judge(problem: ssl.SSLCertVerificationError | None, certificate: x509.Certificate,
           details: dict, name: str, now: dt.datetime) -> str | None:
    """Why the certificate is not valid at `now`, or None. OpenSSL judged the chain by the
    machine's clock; the dates are judged again by the caller's."""
    code = problem.verify_code if problem else None
    if code == _EXPIRED or now > certificate.not_valid_after_utc:
        return f"certificate expired on {details['valid_until']}"
    if code == _NOT_YET_VALID or now < certificate.not_valid_before_utc:
        return f"certificate not valid before {details['valid_from']}"
    if code in (_NAME_MISMATCH, _ADDRESS_MISMATCH):
        presented = ", ".join(details["names"] + details["ip_names"]) or details["subject"]
        return f"hostname mismatch: the certificate is for {presented}, not {name}"
    if problem:
        return _VERIFY_REASONS.get(code) or f"certificate not trusted: {problem.verify_message}"
    return None


def _failure(error: str, started: float) -> ProbeResult:
    total = elapsed_ms(started)
    return ProbeResult(ok=False, error=error, response_ms=total, timings={"total_ms": total})


def _iso(instant: dt.datetime) -> str:
    return instant.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
