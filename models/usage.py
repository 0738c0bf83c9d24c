"""What an organisation uses of each limit of its plan, counted in one place.

Every create calls `ensure_room(organisation, key)` (with the `scope` a per-owner or per-page
limit needs), which counts and refuses past the limit; `over_limits` tells at once what is
over after a plan changes. A downgrade deletes nothing: what is over keeps running, and
creating more is refused, naming the limit, until usage is under it.

The counts that are maxima over an organisation's owners or pages (channels per owner,
subscribers per page, regions per monitor) and the interval floor are reported as the worst
one; data retention is applied by the purge, never "over".
"""
from __future__ import annotations

import peewee

from models import invitations, plans
from models.accounts import Customer
from models.channels.tables import NotificationChannel
from models.heartbeats.tables import Heartbeat
from models.monitors.tables import Monitor
from models.organisations import Membership, Team
from models.servers.tables import Server
from models.services import Service
from models.statuspages.tables import Subscriber
from models.statuspages.tables import StatusPage


def _teams(organisation, scope, now) -> int:
    return Team.select().where(Team.organisation == organisation.id).count()


def _members(organisation, scope, now) -> int:
    members = (Membership.select(peewee.fn.COUNT(Membership.customer.distinct()))
               .join(Team).where(Team.organisation == organisation.id).scalar())
    pending = (invitations.Invitation.select().join(Team).where(
        Team.organisation == organisation.id, invitations.Invitation.status == "pending",
        invitations.Invitation.expires_at > now).count())
    return members + pending


def _channels(organisation, scope, now) -> int:
    """An owner's channels (`scope`: a team or a customer, as `models.channels` has them);
    without one, the most any owner of the organisation has."""
    if scope is not None:
        return NotificationChannel.select().where(scope.column == scope.id).count()
    counts = []
    for column in (NotificationChannel.team, NotificationChannel.customer):
        query = (NotificationChannel.select(peewee.fn.COUNT(NotificationChannel.id))
                 .where(column.is_null(False)).group_by(column))
        if column is NotificationChannel.team:
            query = query.join(Team, on=(column == Team.id)).where(
                Team.organisation == organisation.id)
        else:
            query = query.join(Customer, on=(column == Customer.id)).where(
                Customer.organisation == organisation.id)
        counts.extend(count for (count,) in query.tuples())
    return max(counts, default=0)


def _of_services(model):
    def count(organisation, scope, now) -> int:
        return (model.select().join(Service).join(Team)
                .where(Team.organisation == organisation.id).count())
    return count


def _status_pages(organisation, scope, now) -> int:
    return StatusPage.select().where(StatusPage.organisation == organisation.id).count()


def _subscribers(organisation, scope, now) -> int:
    """A page's subscribers (`scope`); without one, the most any page of it has."""
    if scope is not None:
        return Subscriber.select().where(Subscriber.page == scope.id).count()
    return max((count for (count,) in Subscriber.select(peewee.fn.COUNT(Subscriber.id))
                .join(StatusPage).where(StatusPage.organisation == organisation.id)
                .group_by(Subscriber.page).tuples()), default=0)


def _monitors(organisation):
    return Monitor.select().join(Service).join(Team).where(Team.organisation == organisation.id)


def _regions(organisation, scope, now) -> int:
    """The most regions any of its monitors is checked from."""
    return max((len(regions or []) for (regions,) in
                _monitors(organisation).select(Monitor.regions).tuples()), default=0)


def _shortest_interval(organisation, scope, now) -> int | None:
    return _monitors(organisation).select(peewee.fn.MIN(Monitor.interval_seconds)).scalar()


COUNTERS = {
    "teams": _teams,
    "members": _members,
    "notification_channels": _channels,
    "uptime_monitors": _of_services(Monitor),
    "heartbeat_monitors": _of_services(Heartbeat),
    "server_monitors": _of_services(Server),
    "regions_per_monitor": _regions,
    "status_pages": _status_pages,
    "subscribers": _subscribers,
}
FLOORS = {"min_interval_seconds": _shortest_interval}     # over when usage is below the limit


def used(organisation, key: str, *, scope=None, now=None) -> int:
    return COUNTERS[key](organisation, scope, now)


def ensure_room(organisation, key: str, *, scope=None, adding: int = 1, now=None) -> None:
    """Raises `plans.PlanLimitReached` (naming the limit, what the plan allows and what is in
    use) if `adding` more would pass the organisation's limit `key`."""
    allowed = plans.limit_value(organisation, key)
    if allowed is None:
        return
    count = used(organisation, key, scope=scope, now=now)
    if count + adding > allowed:
        raise plans.PlanLimitReached(
            f"{plans.title(key)}: the {organisation.plan} plan allows {allowed} and {count} "
            "are in use; upgrade the plan or remove some first.",
            fields={key: f"limit {allowed}"})


def over_limits(organisation, *, now) -> list[dict]:
    """The limits of its plan the organisation is over (after a downgrade), each as `{key,
    title, limit, used}`; nothing is over on a plan that limits nothing."""
    found = []
    for limit in plans.limits(organisation.plan, organisation.plan_version):
        if limit.value is None:
            continue
        if limit.key in COUNTERS:
            count = used(organisation, limit.key, now=now)
            over = count > limit.value
        elif limit.key in FLOORS:
            count = FLOORS[limit.key](organisation, None, now)
            over = count is not None and count < limit.value
        else:
            continue
        if over:
            found.append({"key": limit.key, "title": limit.title, "limit": limit.value,
                          "used": count, "unit": limit.unit})
    return found
