"""The domain probe: when does a domain's registration expire, and who holds it?

RDAP first (RFC 9082/9083): the IANA bootstrap file names each TLD's RDAP service. When a TLD
has none, or its service does not answer, WHOIS (RFC 3912, TCP port 43) is asked instead, at
the given server or at the one IANA's WHOIS refers to, and its free text is read through a
table of the field names registries use. Every connection goes through the network policy.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import time
from urllib.parse import urlsplit

import urllib3

from workers import netpolicy
from workers.probes.result import ProbeResult
from workers.probes.tcp import describe, elapsed_ms, time_left

IANA_BOOTSTRAP = "https://data.iana.org/rdap/dns.json"
IANA_WHOIS = "whois.iana.org"
BOOTSTRAP_MAX_AGE_SECONDS = 24 * 3600
RDAP_SHARE_OF_TIMEOUT = 0.6
MAX_RDAP_BYTES = 1024 * 1024
MAX_WHOIS_BYTES = 256 * 1024
USER_AGENT = "Pinghome/0.1 (domain expiry monitor; +https://pinghome.io)"

# bootstrap URL -> (time.monotonic() when fetched, {dns suffix: RDAP base URL}); threads may
# fetch the same file at once, and the last one in wins, which is harmless
_bootstraps: dict[str, tuple[float, dict[str, str]]] = {}


class _Unavailable(Exception):
    """This source cannot tell; the message says why."""


@dataclasses.dataclass
class _Record:
    source: str
    registered: bool = True
    expires_at: dt.datetime | None = None
    registered_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    registrar: str | None = None
    status: list = dataclasses.field(default_factory=list)
    nameservers: list = dataclasses.field(default_factory=list)


def probe_tld(domain: str, *, timeout: float, allow_private: bool, now: dt.datetime,
              rdap_bootstrap_url: str = IANA_BOOTSTRAP, whois_server: str | None = None,
              iana_whois_server: str = IANA_WHOIS) -> ProbeResult:
    """The registration facts of `domain`, judged at `now` (aware UTC): `ok` when its expiry
    date is known and not past. `details` are empty when neither RDAP nor WHOIS could say
    anything. `whois_server` and `iana_whois_server` are "host" or "host:port". Never
    raises for a network failure."""
    started = time.monotonic()
    deadline = started + timeout
    try:
        name = domain.strip().rstrip(".").lower().encode("idna").decode("ascii")
    except UnicodeError:
        return ProbeResult.failure(f"not a domain name: {domain!r}")
    try:
        # a hanging RDAP service must leave WHOIS time to answer
        rdap_deadline = started + timeout * RDAP_SHARE_OF_TIMEOUT
        record = _rdap(name, rdap_bootstrap_url, rdap_deadline, allow_private)
    except _Unavailable as rdap_problem:
        try:
            record = _whois(name, whois_server, iana_whois_server, deadline, allow_private)
        except _Unavailable as whois_problem:
            return ProbeResult.failure(f"RDAP: {rdap_problem}; WHOIS: {whois_problem}",
                                       response_ms=elapsed_ms(started))
    return _result(name, record, now, elapsed_ms(started))


def _result(name: str, record: _Record, now: dt.datetime, total_ms: float) -> ProbeResult:
    days_left = (math.floor((record.expires_at - now).total_seconds() / 86400)
                 if record.expires_at else None)
    details = {"domain": name, "expires_at": _iso(record.expires_at),
               "registered_at": _iso(record.registered_at), "updated_at": _iso(record.updated_at),
               "registrar": record.registrar, "status": record.status,
               "nameservers": record.nameservers, "days_left": days_left,
               "source": record.source}
    if not record.registered:
        error = f"{name} is not registered"
    elif days_left is None:
        error = f"the registry publishes no expiry date for {name}"
    elif days_left < 0:
        error = f"domain expired on {details['expires_at']}"
    else:
        error = None
    return ProbeResult(ok=error is None, error=error, response_ms=total_ms,
                       timings={"total_ms": total_ms}, details=details)


def _rdap(name: str, bootstrap_url: str, deadline: float, allow_private: bool) -> _Record:
    base = _rdap_base(name, _bootstrap(bootstrap_url, deadline, allow_private))
    status, body = _get(f"{base.rstrip('/')}/domain/{name}", deadline, allow_private)
    if status == 404:
        return _Record("rdap", registered=False)
    if status != 200:
        raise _Unavailable(f"the RDAP service answered HTTP {status}")
    try:
        return _rdap_record(json.loads(body))
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
        raise _Unavailable(f"the RDAP answer about {name} cannot be read") from exc


def _bootstrap(url: str, deadline: float, allow_private: bool) -> dict[str, str]:
    """The services of the bootstrap file at `url`, fetched at most once a day (a stale copy
    serves while the file cannot be fetched)."""
    fetched_at, services = _bootstraps.get(url, (None, None))
    if services is not None and time.monotonic() - fetched_at < BOOTSTRAP_MAX_AGE_SECONDS:
        return services
    try:
        status, body = _get(url, deadline, allow_private, accept="application/json")
        if status != 200:
            raise _Unavailable(f"the RDAP bootstrap file answered HTTP {status}")
        fresh = _services(body)
    except _Unavailable:
        if services is None:
            raise
        return services
    _bootstraps[url] = (time.monotonic(), fresh)
    return fresh


def _services(body: bytes) -> dict[str, str]:
    """{suffix: base URL} from an RFC 9224 bootstrap file, preferring https bases."""
    try:
        services = {}
        for suffixes, bases in json.loads(body)["services"]:
            base = next((b for b in bases if b.startswith("https:")), bases[0])
            services.update({suffix.lower(): base for suffix in suffixes})
        return services
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise _Unavailable("the RDAP bootstrap file cannot be read") from exc


def _rdap_base(name: str, services: dict[str, str]) -> str:
    labels = name.split(".")
    for start in range(1, len(labels)):      # the longest matching suffix wins
        base = services.get(".".join(labels[start:]))
        if base:
            return base
    raise _Unavailable(f"no RDAP service for .{labels[-1]}")


_RDAP_EVENTS = {"expiration": "expires_at", "registration": "registered_at",
                "last changed": "updated_at"}


def _rdap_record(document: dict) -> _Record:
    record = _Record("rdap", status=list(document.get("status", [])),
                     nameservers=[ns["ldhName"].lower().rstrip(".")
                                  for ns in document.get("nameservers", [])])
    for event in document.get("events", []):
        field = _RDAP_EVENTS.get(event.get("eventAction"))
        if field:
            setattr(record, field, _utc(dt.datetime.fromisoformat(event["eventDate"])))
    for entity in document.get("entities", []):
        if "registrar" in entity.get("roles", []):
            record.registrar = _vcard_name(entity) or record.registrar
    return record


def _vcard_name(entity: dict) -> str | None:
    """The "fn" of an RFC 7095 jCard: ["vcard", [[name, params, type, value], ...]]."""
    for property_name, _, _, value in entity.get("vcardArray", ["vcard", []])[1]:
        if property_name == "fn":
            return value
    return None


def _get(url: str, deadline: float, allow_private: bool,
         accept: str = "application/rdap+json") -> tuple[int, bytes]:
    try:
        response = netpolicy.request("GET", url, allow_private=allow_private,
                                     headers={"Accept": accept, "User-Agent": USER_AGENT},
                                     timeout=urllib3.Timeout(total=time_left(deadline)),
                                     preload_content=False)
        try:
            body = response.read(MAX_RDAP_BYTES + 1)
        finally:
            response.release_conn()
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        reason = describe(_cause(exc), doing="waiting for the answer")
        raise _Unavailable(f"{urlsplit(url).netloc}: {reason}") from exc
    if len(body) > MAX_RDAP_BYTES:
        raise _Unavailable(f"{url} answered more than {MAX_RDAP_BYTES} bytes")
    return response.status, body


def _cause(exc: Exception) -> BaseException:
    """The socket-level error urllib3 wrapped, so that it can be described plainly."""
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return TimeoutError()
    if isinstance(exc, urllib3.exceptions.ProtocolError) and len(exc.args) > 1 \
            and isinstance(exc.args[1], BaseException):
        return exc.args[1]
    return getattr(exc, "reason", None) or exc


def _whois(name: str, server: str | None, iana: str, deadline: float,
           allow_private: bool) -> _Record:
    server = server or _referral(name, iana, deadline, allow_private)
    return _whois_record(name, _ask(server, name, deadline, allow_private))


def _referral(name: str, iana: str, deadline: float, allow_private: bool) -> str:
    """The WHOIS server IANA names for the domain's TLD."""
    tld = name.rsplit(".", 1)[-1]
    answer = _ask(iana, tld, deadline, allow_private)
    found = re.search(r"^(?:refer|whois):\s*(\S+)", answer, re.MULTILINE | re.IGNORECASE)
    if not found:
        raise _Unavailable(f"IANA names no WHOIS server for .{tld}")
    return found.group(1)


def _ask(server: str, query: str, deadline: float, allow_private: bool) -> str:
    """The whole answer of `server` ("host" or "host:port") to one query."""
    host, port = _host_and_port(server)
    try:
        with netpolicy.connect(host, port, timeout=time_left(deadline),
                              allow_private=allow_private) as sock:
            sock.sendall(query.encode("ascii") + b"\r\n")
            chunks, size = [], 0
            while size <= MAX_WHOIS_BYTES:
                sock.settimeout(time_left(deadline))
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except OSError as exc:
        raise _Unavailable(f"{server}: {describe(exc, doing='waiting for the answer')}") from exc
    return b"".join(chunks)[:MAX_WHOIS_BYTES].decode("utf-8", "replace")


def _host_and_port(server: str) -> tuple[str, int]:
    """"host", "host:port", "[IPv6]:port" or a bare IPv6 address; port 43 unless given."""
    server = server.strip()
    if server.startswith("["):
        host, _, port = server[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = server.partition(":") if server.count(":") == 1 else (server, "", "")
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise _Unavailable(f"not a WHOIS server: {server!r}")
    return host, int(port or 43)


_NOT_FOUND = re.compile(
    r"^[\s%#]*(no match( for)?|not found|no data found|no entries found|domain not found|"
    r"no object found|status:\s*(free|available)|the queried object does not exist|"
    r"no such domain|.*\bis available for registration)", re.IGNORECASE | re.MULTILINE)

# field -> the names registries give it, most specific first (a registry's own expiry date
# before the registrar's)
_FIELDS = {
    "expires_at": ("registry expiry date", "registrar registration expiration date",
                   "expiration date", "expiry date", "expiration time", "expires on",
                   "expire date", "expires", "expire", "paid-till", "renewal date",
                   "valid until"),
    "registered_at": ("creation date", "created on", "created", "registration time",
                      "registered on", "registered", "domain registration date"),
    "updated_at": ("updated date", "last updated", "last modified", "last-update", "changed",
                   "modified"),
    "registrar": ("registrar", "sponsoring registrar", "registrar name"),
    "status": ("domain status", "status", "state"),
    "nameservers": ("name server", "nserver", "nameserver", "nameservers", "name servers"),
}
_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z .\-/]*?)\s*:[ \t]*(\S.*?)\s*$", re.MULTILINE)
_DATE_FORMATS = ("%Y.%m.%d", "%Y/%m/%d", "%d-%b-%Y", "%d.%m.%Y", "%Y%m%d", "%d-%m-%Y",
                 "%d-%b-%Y %H:%M:%S", "%Y.%m.%d %H:%M:%S", "%Y/%m/%d %H:%M:%S")


def _whois_record(name: str, text: str) -> _Record:
    """The facts of a WHOIS answer; `_Unavailable` when it has none of the fields we know."""
    fields: dict[str, list[str]] = {}
    for key, value in _LINE.findall(text):
        fields.setdefault(" ".join(key.lower().split()), []).append(value)
    found = {field: next((fields[key] for key in keys if key in fields), [])
             for field, keys in _FIELDS.items()}
    if not found["expires_at"] and _NOT_FOUND.search(text):
        return _Record("whois", registered=False)
    if not any(found.values()):
        raise _Unavailable(f"the answer about {name} has no registration fields we know")
    dates = {field: _date(found[field][0]) if found[field] else None
             for field in ("expires_at", "registered_at", "updated_at")}
    if found["expires_at"] and dates["expires_at"] is None:
        raise _Unavailable(f"the expiry date {found['expires_at'][0]!r} cannot be read")
    return _Record("whois", **dates, registrar=(found["registrar"] or [None])[0],
                   status=[s for value in found["status"] for s in _statuses(value)],
                   nameservers=[v.split()[0].lower().rstrip(".") for v in found["nameservers"]])


def _statuses(value: str) -> list[str]:
    """From "clientTransferProhibited https://icann.org/epp#..." or "REGISTERED, DELEGATED"."""
    if "," in value:
        return [part.strip() for part in value.split(",") if part.strip()]
    return value.split()[:1]


def _date(raw: str) -> dt.datetime | None:
    """An instant from the date formats registries write, as UTC (naive ones are UTC)."""
    cleaned = re.sub(r"\s*\(?\b(?:UTC|GMT)\b\)?\s*$", "", raw.strip())
    for text in dict.fromkeys((raw.strip(), cleaned, cleaned.split()[0] if cleaned else "")):
        for date_format in (None, *_DATE_FORMATS):
            try:
                return _utc(dt.datetime.fromisoformat(text) if date_format is None
                            else dt.datetime.strptime(text, date_format))
            except ValueError:
                continue
    return None


def _utc(instant: dt.datetime) -> dt.datetime:
    if instant.tzinfo is None:
        return instant.replace(tzinfo=dt.timezone.utc)
    return instant.astimezone(dt.timezone.utc)


def _iso(instant: dt.datetime | None) -> str | None:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ") if instant else None
