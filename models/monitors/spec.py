"""The rules a monitor's fields must follow together, by type, after the edge checked each
field's shape: what a type needs (a URL, a host and port, a keyword), the one normal form of
each value, and the plan's bounds. Create and update both go through `normalise`."""
from __future__ import annotations

import ipaddress
import json
import re
from urllib.parse import quote, urlsplit, urlunsplit

from models import conditions, cron, plans
from models.errors import Invalid

MIN_INTERVAL, MAX_INTERVAL = 10, 86_400
MAX_TIMEOUT = 60
MAX_HOST_LENGTH = 253
# headers: at most MAX_HEADERS names (RFC 9110 tokens) with printable ASCII values; the API
# schema declares the same bounds for headers sent as an object
MAX_HEADERS, MAX_HEADER_VALUE = 50, 4000
HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$"
HEADER_VALUE = r"^[\x20-\x7e]*$"
PROTOCOL_BY_PORT = {25: "smtp", 587: "smtp", 2525: "smtp", 110: "pop3", 143: "imap"}
_HEADER_NAME = re.compile(HEADER_NAME)
_HOST = re.compile(rf"^(?=.{{1,{MAX_HOST_LENGTH}}}$)"
                   r"([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*"
                   r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$")
_SAFE = "!#$%&'()*+,/:;=?@[]~"     # what percent-encoding leaves as it is in a URL
FIELDS = ("name", "type", "url", "host", "port", "method", "headers", "body", "data",
          "conditions", "skip_ssl_error", "not_follow_redirect", "is_advanced", "grace_period",
          "recovery_period", "maintenance_cron_expression", "maintenance_duration", "interval",
          "timeout", "regions")


def normalise(fields: dict, *, organisation, settings, now) -> dict:
    """The monitor's column values from API fields; `Invalid` names every field in the wrong."""
    problems: dict[str, str] = {}
    values = dict(fields)
    kind = values["type"]
    checks = {"http": _web, "keyword": _web, "ping": _host_only, "port": _host_and_port,
              "ssl": _host_and_port, "tld": _domain}
    checks[kind](values, problems)
    values["conditions"] = _conditions(values, problems)
    values["headers"] = _headers(values.get("headers"), problems)
    _maintenance(values, problems, now)
    _timing(values, organisation, problems)
    values["regions"] = _regions(values.get("regions"), organisation, settings, problems)
    if problems:
        raise Invalid(f"The monitor is not valid: {', '.join(sorted(problems))}.", fields=problems)
    return _columns(values)


def protocol_of(monitor) -> str:
    """What a port monitor speaks: SMTP, POP3 and IMAP get their greeting checked."""
    return PROTOCOL_BY_PORT.get(monitor.port, "tcp")


def _web(values, problems):
    url = values.get("url")
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems["url"] = f"a {values['type']} monitor needs an http(s) URL"
    else:
        try:
            values["url"] = _ascii_url(url)
        except (UnicodeError, ValueError):
            problems["url"] = "not a URL whose host name can be looked up"
    if values["type"] == "keyword" and not values.get("data"):
        problems["data"] = "a keyword monitor needs the keyword to look for"
    values["host"] = parts.hostname if parts.hostname else None


def _ascii_url(url: str) -> str:
    """The URL as it goes on the wire: an internationalised host name in IDNA (`bücher.de`
    as `xn--bcher-kva.de`), any other non-ASCII character percent-encoded as UTF-8."""
    if url.isascii():
        return url
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    host, colon, port = hostport.partition(":")
    netloc = (quote(userinfo, safe=_SAFE) + at + host.encode("idna").decode("ascii")
              + colon + port)
    return urlunsplit((parts.scheme, netloc, quote(parts.path, safe=_SAFE),
                       quote(parts.query, safe=_SAFE), quote(parts.fragment, safe=_SAFE)))


def _host_only(values, problems):
    host = _host_from(values)
    if host is None:
        problems["host"] = f"a {values['type']} monitor needs a host name or address"
    values["host"] = host


def _host_and_port(values, problems):
    _host_only(values, problems)
    port = values.get("port")
    if values["type"] == "ssl":
        port = port or (urlsplit(values.get("url") or "").port or 443)
    if not isinstance(port, int) or not 1 <= port <= 65535:
        problems["port"] = "a port between 1 and 65535 is required"
    values["port"] = port


def _domain(values, problems):
    _host_only(values, problems)
    host = values.get("host")
    if host is not None and (_is_address(host) or "." not in host.strip(".")):
        problems["host"] = "a tld monitor needs a domain name, such as example.com"


def _host_from(values) -> str | None:
    host = values.get("host") or urlsplit(values.get("url") or "").hostname
    if not host:
        return None
    host = host.strip().lower()
    return host if _is_address(host) or _HOST.match(host) else None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _conditions(values, problems) -> list | None:
    raw = values.get("conditions")
    try:
        parsed = conditions.parse(raw)
    except Invalid as exc:
        problems.update(exc.fields)
        return None
    return conditions.dump(parsed) or None


def _headers(raw, problems) -> dict | None:
    if raw in (None, "", {}):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = None
    if not isinstance(raw, dict) or len(raw) > MAX_HEADERS or not all(
            isinstance(k, str) and _HEADER_NAME.match(k) and isinstance(v, str)
            and len(v) <= MAX_HEADER_VALUE and v.isascii() and v.isprintable()
            for k, v in raw.items()):
        problems["headers"] = (f"must be a JSON object (or a JSON string of one) of at most "
                               f"{MAX_HEADERS} header names and printable ASCII values")
        return None
    return raw


def _maintenance(values, problems, now):
    expression = values.get("maintenance_cron_expression") or None
    duration = values.get("maintenance_duration") or None
    values["maintenance_cron_expression"], values["maintenance_duration"] = expression, duration
    wrong = expression and cron.problem(expression, now=now)
    if wrong:
        problems["maintenance_cron_expression"] = f"{wrong} (UTC)"
    if bool(expression) != bool(duration):
        problems["maintenance_duration"] = ("maintenance_cron_expression and "
                                            "maintenance_duration (minutes) go together")


def _timing(values, organisation, problems):
    interval, timeout = values["interval"], values["timeout"]
    shortest = max(MIN_INTERVAL, plans.limit_value(organisation, "min_interval_seconds") or 0)
    if not shortest <= interval <= MAX_INTERVAL:
        problems["interval"] = (f"must be between {shortest} and {MAX_INTERVAL} seconds on the "
                                f"{organisation.plan} plan")
    if not 1 <= timeout <= min(MAX_TIMEOUT, interval):
        problems["timeout"] = f"must be between 1 and {min(MAX_TIMEOUT, interval)} seconds"


def _regions(requested, organisation, settings, problems) -> list:
    allowed = plans.limit_value(organisation, "regions_per_monitor") or len(settings.regions)
    if not requested:
        return list(settings.regions[:allowed])
    unknown = [r for r in requested if r not in settings.regions]
    if unknown:
        problems["regions"] = (f"unknown region(s) {', '.join(unknown)}; this installation "
                               f"probes from {', '.join(settings.regions)}")
    elif len(set(requested)) > allowed:
        problems["regions"] = f"the {organisation.plan} plan allows {allowed} regions per monitor"
    return list(dict.fromkeys(requested))


def _columns(values) -> dict:
    columns = {name: values.get(name) for name in FIELDS
               if name not in ("interval", "timeout")}
    columns["interval_seconds"] = values["interval"]
    columns["timeout_seconds"] = values["timeout"]
    return columns
