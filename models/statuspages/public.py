"""What the public sees of a status page: the page found by its address, who is admitted to a
private one, and everything it shows (overall status, groups and components with 90 days of
daily uptime, open and recent incidents, maintenance).

Nothing here names a person: an incident shows its name, description, urgency and when it
was opened, identified (acknowledged) and resolved, never its timeline (which names who
acted) or its assignees.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading

import argon2
import cachetools
import itsdangerous

from models import addresses, ratelimit
from models.clock import isoformat
from models.errors import Invalid, NotFound, Unauthenticated
from models.incidents.tables import Incident
from models.statuspages import operations, statistics, status
from models.statuspages.tables import StatusPage

HISTORY_DAYS = 14
ADMISSION_SECONDS = 30 * 24 * 3600
UPTIME_SECONDS = 60          # daily uptime moves slowly: computed at most once a minute
HEADLINES = {"operational": "All systems operational",
             "under_maintenance": "Scheduled maintenance in progress",
             "degraded_performance": "Degraded performance",
             "partial_outage": "Partial outage",
             "major_outage": "Major outage"}
_DAY = dt.timedelta(days=1)
_NAME = re.compile(r"^[a-z0-9.-]{1,253}$")
_hasher = argon2.PasswordHasher()
_lock = threading.Lock()
_domains: cachetools.TTLCache = cachetools.TTLCache(maxsize=1, ttl=5)
_uptime: cachetools.TTLCache = cachetools.TTLCache(maxsize=1024, ttl=UPTIME_SECONDS)


def page_named(name: str) -> StatusPage:
    """The enabled page at `name`: its subdomain, or its own domain (a name with a dot);
    `NotFound` otherwise."""
    name = name.strip().rstrip(".").lower()
    if not _NAME.match(name):      # never a page's: no lookup (a NUL would not even go in)
        raise NotFound("No such status page.")
    column = StatusPage.domain if "." in name else StatusPage.subdomain
    page = StatusPage.get_or_none(column == name, StatusPage.enabled == True)  # noqa: E712
    if page is None:
        raise NotFound("No such status page.")
    return page


def subscribable_page(page_id, *, host: str, client_ip, cookie_of, settings) -> StatusPage:
    """The enabled page a subscription is for: `page_id`, else the page the request's Host
    addresses; `NotFound` for a private page the client is not admitted to (`cookie_of(page)`:
    its admission cookie), as for one that does not exist."""
    if page_id is None:
        name = page_for_host(host, settings)
        if name is None:
            raise Invalid("Name the status page.",
                          fields={"statuspage_id": "required (the request did not come to a "
                                                   "page's address)"})
        page = page_named(name)
    else:
        page = StatusPage.get_or_none(StatusPage.id == page_id,
                                      StatusPage.enabled == True)  # noqa: E712
    if page is None or not admits(page, client_ip=client_ip, cookie=cookie_of(page),
                                  settings=settings):
        raise NotFound("No such status page.")
    return page


def page_for_host(host: str, settings) -> str | None:
    """The name (for `page_named`) of the page a request's Host header addresses, if any:
    `<subdomain>.<PINGHOME_STATUS_DOMAIN>`, or a domain some page has as its own."""
    host = (host or "").rsplit(":", 1)[0].rstrip(".").lower() if "]" not in (host or "") \
        else ""
    if not host:
        return None
    if settings.status_domain and host.endswith("." + settings.status_domain):
        label = host[:-len(settings.status_domain) - 1]
        return label if label and "." not in label else None
    return host if host in _own_domains() else None


def _own_domains() -> frozenset[str]:
    """The pages' own domains, read at most every few seconds (every API request asks)."""
    with _lock:
        found = _domains.get("all")
    if found is None:
        found = frozenset(domain for (domain,) in StatusPage.select(StatusPage.domain).where(
            StatusPage.domain.is_null(False)).tuples())
        with _lock:
            _domains["all"] = found
    return found


# -- admission to a private page ----------------------------------------------------------

def admits(page: StatusPage, *, client_ip: str | None, cookie: str | None, settings) -> bool:
    """A public page admits everyone; a private one an address in its `ip_addresses` or a
    browser holding the cookie its password earned (signed; void once the password changes)."""
    if page.type != "private":
        return True
    if client_ip and addresses.in_networks(client_ip, page.ip_addresses or []):
        return True
    if not cookie or not page.password_hash:
        return False
    try:
        value = _serializer(settings).loads(cookie, max_age=ADMISSION_SECONDS)
    except itsdangerous.BadData:
        return False
    return value == _admission_value(page)


def sign_in(page: StatusPage, password: str, *, client_ip: str | None, settings) -> str:
    """The admission cookie's value for the right password; `Unauthenticated` for a wrong
    one, after the client's tries on this page are counted (`TooManyRequests` past the limit)."""
    ratelimit.hit_client(settings.status_password_rate_limit, f"statuspage-password:{page.id}",
                         client_ip)
    try:
        if page.password_hash and _hasher.verify(page.password_hash, password):
            return _serializer(settings).dumps(_admission_value(page))
    except argon2.exceptions.VerificationError:
        pass
    raise Unauthenticated("That password is not this page's.", code="wrong_password")


def cookie_name(page: StatusPage) -> str:
    return f"statuspage-{page.id}"


def _admission_value(page) -> str:
    # a digest of the stored hash: a new password voids the cookies the old one earned
    return f"{page.id}:{hashlib.sha256(page.password_hash.encode()).hexdigest()[:24]}"


def _serializer(settings) -> itsdangerous.URLSafeTimedSerializer:
    return itsdangerous.URLSafeTimedSerializer(settings.secret_key, salt="statuspage-admission")


# -- what the page shows ------------------------------------------------------------------

def view(page: StatusPage, *, now: dt.datetime) -> dict:
    """Everything the page shows at `now`, as plain data (the HTML, the JSON and the feeds
    are all made from it)."""
    groups, components, shown = operations.contents(page, now=now)
    uptime = _uptime_of(page, components, now)
    listed = [_component(component, shown[str(component.id)], uptime.get(str(component.id)))
              for component in components]
    by_group: dict = {}
    for component, item in zip(components, listed):
        by_group.setdefault(str(component.group_id) if component.group_id else None,
                            []).append(item)
    overall = status.worst(item["status"] for item in listed)
    incidents = _incidents(page, components, now)
    return {
        "page": {
            "id": str(page.id), "name": page.page_name or page.name,
            "description": page.description, "subdomain": page.subdomain,
            "logo": page.logo, "favicon": page.favicon, "dark_theme": page.dark_theme,
            "website_url": page.website_url, "privacy_url": page.privacy_url,
            "support_url": page.support_url, "remove_branding": page.remove_branding,
            "robots": ", ".join(page.robots_meta_contents or []) or None,
            "subscription_enabled": page.subscription_enabled,
        },
        "status": overall, "headline": HEADLINES[overall],
        "components": by_group.get(None, []),
        "groups": [{"id": str(group.id), "name": group.name,
                    "status": status.worst(item["status"]
                                           for item in by_group.get(str(group.id), [])),
                    "components": by_group.get(str(group.id), [])} for group in groups],
        "maintenance": [item["name"] for item in listed
                        if item["status"] == "under_maintenance"],
        "incidents": [item for item in incidents if item["status"] != "resolved"],
        "history": incidents,
        "updated_at": isoformat(now),
    }


def overall_status(page: StatusPage, *, now: dt.datetime) -> str:
    """The `status` that `view` answers, without the rest of the view (uptime, incidents)."""
    _, _, shown = operations.contents(page, now=now)
    return status.worst(item.status for item in shown.values())


def _component(component, shown, days: list | None) -> dict:
    days = days or []
    known = [day["uptime_percent"] for day in days if day["uptime_percent"] is not None]
    return {"id": str(component.id), "name": component.name,
            "description": component.description, "status": shown.status,
            "since": isoformat(shown.since),
            "uptime_percent": round(sum(known) / len(known), 3) if known else None,
            "days": days}


def _uptime_of(page, components, now) -> dict[str, list]:
    """Each component's daily uptime over the last 90 days, by component id."""
    key = (str(page.id), tuple((str(c.id), c.type, str(c.subject_id)) for c in components))
    with _lock:
        found = _uptime.get(key)
    if found is None:
        first = dt.datetime.combine(now.date() - dt.timedelta(days=statistics.DAYS - 1),
                                    dt.time(), tzinfo=dt.timezone.utc)
        found = {str(component.id): statistics.daily_uptime(component, first, now)
                 for component in components}
        with _lock:
            _uptime[key] = found
    return found


def _incidents(page, components, now) -> list[dict]:
    """The incidents naming the page's components that are open or were opened or resolved
    in the last 14 days, newest first."""
    pages = {str(c.id): str(c.page_id) for c in components}
    if not pages:
        return []
    since = now - HISTORY_DAYS * _DAY
    query = (Incident.select().where(
        Incident.organisation == page.organisation_id,
        (Incident.status != "resolved") | (Incident.resolved_at >= since)
        | (Incident.created_at >= since))
        .order_by(Incident.created_at.desc()))
    names = {str(c.id): c.name for c in components}
    found = []
    for incident in query:
        named = status.named_components(incident.actions, pages)
        if named:
            found.append(_incident(incident, sorted(names[c] for c in named)))
    return found


def _incident(incident, component_names: list[str]) -> dict:
    updates = [("investigating", incident.created_at)]
    if incident.acknowledged_at:
        updates.append(("identified", incident.acknowledged_at))
    if incident.resolved_at:
        updates.append(("resolved", incident.resolved_at))
    return {"id": str(incident.id), "name": incident.name,
            "description": incident.description, "urgency": incident.urgency,
            "status": "resolved" if incident.status == "resolved" else "open",
            "impact": status.URGENCY_STATUS.get(incident.urgency, "major_outage"),
            "components": component_names, "created_at": isoformat(incident.created_at),
            "resolved_at": isoformat(incident.resolved_at),
            "updates": [{"status": name, "at": isoformat(at)}
                        for name, at in reversed(updates)]}
