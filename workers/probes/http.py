"""The HTTP probe, on libcurl (pycurl): one function for one request, one for many at once.

libcurl gives the phase timings (DNS, connect, TLS, first byte, total), follows redirects or
not, and runs hundreds of transfers concurrently in one thread (`CurlMulti`) without holding
the GIL while it waits. Each check opens a new connection (no reuse, no DNS cache), so the
timings measure what a visitor's first request costs. Every connection, redirects included,
is checked against the network policy on the address curl is about to connect to
(OPENSOCKETFUNCTION).
"""
from __future__ import annotations

import dataclasses
import socket

import pycurl

from workers.netpolicy import is_public
from workers.probes.result import ProbeResult

USER_AGENT = "Pinghome/0.1 (uptime monitor; +https://pinghome.io)"
MAX_REDIRECTS = 10
MAX_BODY_BYTES = 256 * 1024


@dataclasses.dataclass(frozen=True)
class HttpRequest:
    url: str
    method: str = "GET"
    headers: dict | None = None
    body: str | None = None
    timeout: float = 10.0
    follow_redirects: bool = True
    verify_tls: bool = True
    max_body_bytes: int = MAX_BODY_BYTES
    allow_private: bool = False
    ca_file: str | None = None      # extra trust (a private CA), besides the system's
    want_headers: bool = True       # False: skip collecting them (saves a callback per line)
    want_body: bool = True          # False: read and discard the body without keeping it


def probe_http(url: str, **options) -> ProbeResult:
    """One HTTP request; see `HttpRequest` for the options."""
    return probe_http_many([HttpRequest(url, **options)])[0]


def probe_http_many(requests: list[HttpRequest], *, concurrency: int = 200) -> list[ProbeResult]:
    """Runs the requests concurrently, at most `concurrency` at a time, in this thread; the
    results come back in the requests' order."""
    results: list[ProbeResult | None] = [None] * len(requests)
    multi = pycurl.CurlMulti()
    idle = [pycurl.Curl() for _ in range(min(concurrency, len(requests)))]
    pending = list(enumerate(requests))[::-1]
    running = 0
    while pending or running:
        while pending and idle:
            index, request = pending.pop()
            curl = idle.pop()
            try:
                transfer = _Transfer(curl, index, request)
            except Exception as exc:      # libcurl refused an option: this request's failure
                curl.transfer = None
                idle.append(curl)
                results[index] = ProbeResult.failure(f"the request cannot be made: {exc}")
                continue
            multi.add_handle(transfer.curl)
            running += 1
        multi.perform()
        while True:
            queued, done, failed = multi.info_read()
            for curl, code, message in [(c, 0, None) for c in done] + list(failed):
                multi.remove_handle(curl)
                transfer = curl.transfer
                results[transfer.index] = transfer.result(code, message)
                curl.transfer = None
                idle.append(curl)
                running -= 1
            if not queued:
                break
        if running:
            multi.select(0.05)
    for curl in idle:
        curl.close()
    multi.close()
    return results


class _Transfer:
    """One request on a (reused) curl handle, and what it collected."""

    def __init__(self, curl: pycurl.Curl, index: int, request: HttpRequest):
        self.curl, self.index, self.request = curl, index, request
        self.body, self.size, self.truncated = [], 0, False
        self.headers: dict[str, str] = {}
        self.refused: str | None = None
        curl.reset()
        curl.transfer = self
        _configure(curl, request, self)

    def write(self, chunk: bytes):
        room = self.request.max_body_bytes - self.size
        self.body.append(chunk[:room])
        self.size += min(len(chunk), room)
        if len(chunk) > room:
            self.truncated = True
            return 0     # stops the transfer: what we have is all we read
        return None

    def header(self, line: bytes):
        text = line.decode("iso-8859-1").rstrip("\r\n")
        if text.startswith("HTTP/"):
            self.headers = {}        # a new response in the redirect chain
        elif ":" in text:
            name, _, value = text.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    def open_socket(self, purpose, address):
        family, socktype, protocol, sockaddr = address
        if not self.request.allow_private and not is_public(sockaddr[0]):
            self.refused = (f"{sockaddr[0]} is a private address, which this installation may "
                            "not reach (PINGHOME_ALLOW_PRIVATE_TARGETS is off)")
            return pycurl.SOCKET_BAD
        return socket.socket(family, socktype, protocol)

    def result(self, code: int, message: str | None) -> ProbeResult:
        curl = self.curl
        timings = _timings(curl)
        if code and not (code == pycurl.E_WRITE_ERROR and self.truncated):
            return ProbeResult(ok=False, error=self.refused or _describe(code, message),
                               response_ms=timings.get("total_ms"), timings=timings,
                               details={"curl_code": code})
        return ProbeResult(
            ok=True, response_ms=timings["total_ms"], timings=timings,
            status_code=curl.getinfo(pycurl.RESPONSE_CODE), headers=self.headers,
            body=b"".join(self.body),
            details={"final_url": curl.getinfo(pycurl.EFFECTIVE_URL),
                     "redirects": curl.getinfo(pycurl.REDIRECT_COUNT),
                     "address": curl.getinfo(pycurl.PRIMARY_IP), "truncated": self.truncated})


def _configure(curl: pycurl.Curl, request: HttpRequest, transfer: _Transfer) -> None:
    curl.setopt(pycurl.URL, request.url)
    curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
    curl.setopt(pycurl.REDIR_PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
    curl.setopt(pycurl.TIMEOUT_MS, int(request.timeout * 1000))
    curl.setopt(pycurl.CONNECTTIMEOUT_MS, int(request.timeout * 1000))
    curl.setopt(pycurl.NOSIGNAL, 1)
    curl.setopt(pycurl.FRESH_CONNECT, 1)
    curl.setopt(pycurl.FORBID_REUSE, 1)
    curl.setopt(pycurl.DNS_CACHE_TIMEOUT, 0)
    curl.setopt(pycurl.USERAGENT, USER_AGENT)
    curl.setopt(pycurl.FOLLOWLOCATION, 1 if request.follow_redirects else 0)
    curl.setopt(pycurl.MAXREDIRS, MAX_REDIRECTS)
    curl.setopt(pycurl.SSL_VERIFYPEER, 1 if request.verify_tls else 0)
    curl.setopt(pycurl.SSL_VERIFYHOST, 2 if request.verify_tls else 0)
    if request.ca_file:
        curl.setopt(pycurl.CAINFO, request.ca_file)
    curl.setopt(pycurl.ACCEPT_ENCODING, "")
    # `len` accepts every chunk without running Python code per chunk
    curl.setopt(pycurl.WRITEFUNCTION, transfer.write if request.want_body else len)
    if request.want_headers:
        curl.setopt(pycurl.HEADERFUNCTION, transfer.header)
    if not request.allow_private:
        curl.setopt(pycurl.OPENSOCKETFUNCTION, transfer.open_socket)
    method = request.method.upper()
    if method == "HEAD":
        curl.setopt(pycurl.NOBODY, 1)
    elif method != "GET":
        curl.setopt(pycurl.CUSTOMREQUEST, method)
    if request.body:
        curl.setopt(pycurl.POSTFIELDS, request.body.encode())
    if request.headers:
        curl.setopt(pycurl.HTTPHEADER, [f"{k}: {v}" for k, v in request.headers.items()])


def _timings(curl: pycurl.Curl) -> dict:
    """Phase durations in ms from curl's cumulative times (0 where a phase did not happen)."""
    dns = curl.getinfo(pycurl.NAMELOOKUP_TIME)
    connect = curl.getinfo(pycurl.CONNECT_TIME)
    tls = curl.getinfo(pycurl.APPCONNECT_TIME)
    first = curl.getinfo(pycurl.STARTTRANSFER_TIME)
    total = curl.getinfo(pycurl.TOTAL_TIME)
    connected = max(connect, dns)
    secured = max(tls, connected)
    return {"dns_ms": round(dns * 1000, 3),
            "connect_ms": round((connected - dns) * 1000, 3),
            "tls_ms": round((secured - connected) * 1000, 3) if tls else 0.0,
            "first_byte_ms": round(max(first - secured, 0) * 1000, 3) if first else 0.0,
            "total_ms": round(total * 1000, 3)}


_ERRORS = {
    pycurl.E_COULDNT_RESOLVE_HOST: "could not resolve the host name",
    pycurl.E_COULDNT_CONNECT: "connection refused or unreachable",
    pycurl.E_OPERATION_TIMEDOUT: "timed out",
    pycurl.E_SSL_CONNECT_ERROR: "TLS handshake failed",
    pycurl.E_PEER_FAILED_VERIFICATION: "TLS certificate not valid for this host",
    pycurl.E_TOO_MANY_REDIRECTS: f"more than {MAX_REDIRECTS} redirects",
    pycurl.E_GOT_NOTHING: "the server closed the connection without answering",
    pycurl.E_RECV_ERROR: "connection reset while reading the response",
    pycurl.E_UNSUPPORTED_PROTOCOL: "redirected to a protocol other than http(s)",
}


def _describe(code: int, message: str | None) -> str:
    known = _ERRORS.get(code)
    return f"{known} ({message})" if known and message else known or message or f"curl error {code}"

