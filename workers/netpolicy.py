"""Which network addresses outbound connections may reach, and the one HTTP client that holds
every outbound request to it.

Without `PINGHOME_ALLOW_PRIVATE_TARGETS`, a user-supplied target may not reach loopback,
private, link-local (cloud metadata), multicast or reserved addresses, nor an IPv6 address
that wraps one (6to4, Teredo, NAT64, IPv4-mapped or -compatible), nor site-local `fec0::/10`.
The check runs on the address a connection is about to use, after DNS, so a name that
resolves inward is refused too, and it runs again for every connection: each redirect, each
retry, a name that answers differently the second time.

HTTP: every connection urllib3 makes in this process (our `request`, and the libraries on it:
requests, and through it Apprise's chat notifiers, which connect and follow redirects on their
own) is opened by `_create_connection` under the policy the caller set with `policy(...)`;
without one it is the strict policy. Raw TCP (ports, TLS, WHOIS) uses `connect`, and the HTTP
probe checks each socket libcurl opens with `is_public`.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import ipaddress
import socket

import urllib3
import urllib3.util.connection
from urllib3.util.timeout import _DEFAULT_TIMEOUT

_SITE_LOCAL = ipaddress.ip_network("fec0::/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


class PrivateAddressRefused(OSError):
    """The target resolves only to addresses this installation may not reach. Final: the
    same target is refused again, so it is not worth a retry."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _SITE_LOCAL:
            return False
        wrapped = _wrapped_ipv4(ip)
        if wrapped is not None:
            return is_public(str(wrapped))
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


def _wrapped_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries, by any of the ways of tunnelling it."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:                          # 2002::/16
        return ip.sixtofour
    if ip.teredo:                             # 2001::/32: (server, client)
        return ip.teredo[1]
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def resolve(host: str, port: int, *, allow_private: bool) -> list[tuple]:
    """The (family, type, proto, sockaddr) entries of `host` that may be reached, in the
    resolver's order; raises `PrivateAddressRefused` if none may."""
    entries = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    allowed = [entry for entry in entries if allow_private or is_public(entry[4][0])]
    if not allowed:
        raise PrivateAddressRefused(
            f"{host} resolves to {', '.join(sorted({e[4][0] for e in entries}))}, which this "
            "installation may not reach (PINGHOME_ALLOW_PRIVATE_TARGETS is off)")
    return [(family, kind, proto, sockaddr) for family, kind, proto, _, sockaddr in allowed]


def connect(host: str, port: int, *, timeout: float | None, allow_private: bool,
            socket_options=None, source_address=None) -> socket.socket:
    """A TCP connection to the first reachable allowed address of `host`."""
    last_error: OSError | None = None
    for family, kind, proto, sockaddr in resolve(host, port, allow_private=allow_private):
        sock = socket.socket(family, kind, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    raise last_error or OSError(f"could not connect to {host}:{port}")


@dataclasses.dataclass
class Policy:
    allow_private: bool
    refused: str | None = None      # why a connection made under it was refused


_current: contextvars.ContextVar[Policy | None] = contextvars.ContextVar("netpolicy",
                                                                         default=None)


@contextlib.contextmanager
def policy(*, allow_private: bool):
    """Within the block, this thread's HTTP connections follow `allow_private`; yields the
    policy, whose `refused` says afterwards whether one was refused (Apprise only logs it)."""
    current = Policy(allow_private)
    token = _current.set(current)
    try:
        yield current
    finally:
        _current.reset(token)


def _create_connection(address, timeout=_DEFAULT_TIMEOUT, source_address=None,
                       socket_options=None) -> socket.socket:
    """urllib3's `create_connection`, resolving and connecting through the policy."""
    current = _current.get() or Policy(allow_private=False)
    host, port = address
    if timeout is _DEFAULT_TIMEOUT:
        timeout = socket.getdefaulttimeout()
    try:
        return connect(host.strip("[]"), port, timeout=timeout,
                       allow_private=current.allow_private, socket_options=socket_options,
                       source_address=source_address)
    except PrivateAddressRefused as exc:
        current.refused = str(exc)
        raise


urllib3.util.connection.create_connection = _create_connection

# one pool manager per policy: a kept-alive connection never serves a stricter caller
_managers = {allowed: urllib3.PoolManager(num_pools=50, maxsize=10, retries=False)
             for allowed in (True, False)}


def request(method: str, url: str, *, allow_private: bool, **kwargs) -> urllib3.BaseHTTPResponse:
    """One HTTP request, without redirects; `PrivateAddressRefused` for a refused target."""
    with policy(allow_private=allow_private) as current:
        try:
            return _managers[allow_private].request(method, url, redirect=False, **kwargs)
        except urllib3.exceptions.HTTPError:
            if current.refused:
                raise PrivateAddressRefused(current.refused) from None
            raise
