"""A status page's own domain: whether its DNS points at us (endpoint 107).

The lookup is a live DNS query, answered while the request waits (a few seconds at most,
`PINGHOME_DNS_TIMEOUT_SECONDS`), through the resolvers of `PINGHOME_DNS_SERVERS` or the
system's. It reads no rows: any authenticated caller may ask about any name, as the answer
is public DNS anyway.
"""
from __future__ import annotations

import dns.exception
import dns.nameserver
import dns.resolver


def cname_of(domain: str, *, settings) -> dict:
    """The CNAME check of a syntactically valid `domain`: what we expect, what DNS answers
    (or why it answers nothing) and whether the two agree. Never raises for DNS trouble."""
    expected = settings.cname_target
    found, reason = lookup_cname(domain, settings.dns_servers, settings.dns_timeout_seconds)
    answer = {"domain": domain, "expected": expected, "found": found,
              "configured": found is not None and found == expected}
    if reason is None and not answer["configured"]:
        reason = f"The CNAME points to {found}, not {expected}."
    if reason is not None:
        answer["reason"] = reason
    return answer


def lookup_cname(domain: str, servers: tuple, timeout: float) -> tuple[str | None, str | None]:
    """The target of `domain`'s CNAME record (lower case, no trailing dot) and None, or None
    and a short reason."""
    resolver = dns.resolver.Resolver(configure=not servers)
    if servers:
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port)
                                for host, port in servers]
    resolver.lifetime = timeout
    try:
        answer = resolver.resolve(domain, "CNAME", raise_on_no_answer=True)
    except dns.resolver.NXDOMAIN:
        return None, "The domain does not exist (NXDOMAIN)."
    except dns.resolver.NoAnswer:
        return None, "The domain has no CNAME record."
    except dns.exception.Timeout:
        return None, "The DNS lookup timed out."
    except (dns.resolver.NoNameservers, dns.exception.DNSException) as exc:
        return None, f"The DNS lookup failed: {type(exc).__name__}."
    target = answer[0].target.to_text(omit_final_dot=True).lower()
    return target, None
