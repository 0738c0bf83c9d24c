"""Which network addresses outbound requests (probes, webhooks) may reach.

Without `PINGHOME_ALLOW_PRIVATE_TARGETS`, a user-supplied URL may not reach loopback, private,
link-local (cloud metadata), multicast or reserved addresses: the check runs on the address a
connection is about to use, after DNS, so a name that resolves inward is refused too.
"""
from __future__ import annotations

import ipaddress
import socket


class PrivateAddressRefused(OSError):
    """The target resolves only to addresses this installation may not reach."""


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved)


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


def connect(host: str, port: int, *, timeout: float, allow_private: bool) -> socket.socket:
    """A TCP connection to the first reachable allowed address of `host`."""
    last_error: OSError | None = None
    for family, kind, proto, sockaddr in resolve(host, port, allow_private=allow_private):
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    raise last_error or OSError(f"could not connect to {host}:{port}")
