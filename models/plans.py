"""Plans and their limits: a versioned catalogue, so an organisation on an old version keeps the
limits it signed up for when a new version changes them.

`self-hosted` limits nothing: until billing exists every new organisation gets it (or the plan
`PINGHOME_DEFAULT_PLAN` names), so a person trying Pinghome on their own machine meets no
SaaS limit."""
from __future__ import annotations

import dataclasses

from models.errors import DomainError, NotFound

UNLIMITED = None


@dataclasses.dataclass(frozen=True)
class Limit:
    module: str
    key: str
    title: str
    value: int | None        # None: unlimited
    unit: str = "count"


def _plan(teams, members, channels, uptime, heartbeats, servers, min_interval, regions,
          retention_days, status_pages, subscribers) -> tuple[Limit, ...]:
    return (
        Limit("team", "teams", "Teams", teams),
        Limit("team", "members", "Members, invitations included", members),
        Limit("team", "notification_channels", "Notification channels per owner", channels),
        Limit("monitoring", "uptime_monitors", "Uptime monitors", uptime),
        Limit("monitoring", "heartbeat_monitors", "Heartbeat monitors", heartbeats),
        Limit("monitoring", "server_monitors", "Server monitors", servers),
        Limit("monitoring", "min_interval_seconds", "Shortest check interval", min_interval,
              "seconds"),
        Limit("monitoring", "regions_per_monitor", "Regions per monitor", regions),
        Limit("monitoring", "data_retention_days", "Raw results kept", retention_days, "days"),
        Limit("statuspage", "status_pages", "Status pages", status_pages),
        Limit("statuspage", "subscribers", "Subscribers per status page", subscribers),
    )


CATALOGUE: dict[tuple[str, str], tuple[Limit, ...]] = {
    ("self-hosted", "v1"): _plan(*[UNLIMITED] * 11),
    ("free", "v1"): _plan(2, 3, 5, 20, 20, 2, 60, 2, 30, 1, 100),
    ("developer", "v1"): _plan(5, 10, 10, 100, 100, 10, 30, 3, 90, 3, 1_000),
    ("team", "v1"): _plan(20, 50, 25, 500, 500, 50, 20, 5, 180, 10, 10_000),
    ("business", "v1"): _plan(UNLIMITED, UNLIMITED, 50, 5_000, 5_000, 500, 10, UNLIMITED, 365,
                              50, UNLIMITED),
}
# what a month of each paid plan costs, in the currency's smallest unit; `pinghome billing
# setup` makes a Stripe price of each (a new amount is a new version: prices never change)
PRICES: dict[tuple[str, str], tuple[int, str]] = {
    ("developer", "v1"): (900, "usd"),
    ("team", "v1"): (2900, "usd"),
    ("business", "v1"): (9900, "usd"),
}
DEFAULT_PLAN = ("self-hosted", "v1")
FREE_PLAN = ("free", "v1")            # where an organisation is when it pays for nothing


class PlanLimitReached(DomainError):
    status = 403
    code = "plan_limit_reached"


def limits(plan: str, version: str) -> tuple[Limit, ...]:
    try:
        return CATALOGUE[(plan, version)]
    except KeyError:
        raise NotFound(f"No plan {plan!r} in version {version!r}.") from None


def named(text: str) -> tuple[str, str]:
    """The catalogue's (plan, version) for `name` or `name/version`; a bare name means its
    newest version. `ValueError` for a plan the catalogue does not have."""
    name, _, version = text.strip().partition("/")
    versions = sorted((v for n, v in CATALOGUE if n == name),
                      key=lambda v: int(v.lstrip("v")) if v.lstrip("v").isdigit() else 0)
    if not versions or (version and version not in versions):
        known = ", ".join(f"{n}/{v}" for n, v in CATALOGUE)
        raise ValueError(f"no plan {text.strip()!r} in the catalogue (known: {known})")
    return name, version or versions[-1]


def limit_value(organisation, key: str) -> int | None:
    return limit_of(organisation.plan, organisation.plan_version, key)


def limit_of(plan: str, version: str, key: str) -> int | None:
    """The plan version's limit `key` (None: unlimited); `NotFound` for a plan the catalogue
    does not have."""
    for limit in limits(plan, version):
        if limit.key == key:
            return limit.value
    raise KeyError(key)


def label(plan: str) -> str:
    """A plan's name for people: `self-hosted` is "Self-hosted"."""
    return plan[:1].upper() + plan[1:]


def title(key: str) -> str:
    return next(limit.title for limit in CATALOGUE[DEFAULT_PLAN] if limit.key == key)


def limits_by_module(plan: str, version: str) -> dict[str, dict[str, int | None]]:
    grouped: dict[str, dict[str, int | None]] = {}
    for limit in limits(plan, version):
        grouped.setdefault(limit.module, {})[limit.key] = limit.value
    return grouped
