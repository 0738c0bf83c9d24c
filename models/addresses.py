"""Whether a client's address is in an allow-list of networks (private status pages, who may
read `/metrics`): the one check, so each list treats an address alike."""
from __future__ import annotations

import ipaddress


def in_networks(ip: str | None, networks) -> bool:
    """Whether `ip` (a peer address as the server gives it) is in any of `networks` (network
    objects or their text). An IPv4 address that a dual-stack socket shows as IPv6
    (`::ffff:10.1.2.3`) counts as itself; a zone (`%eth0`) is left out."""
    try:
        address = ipaddress.ip_address((ip or "").split("%")[0])
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)
