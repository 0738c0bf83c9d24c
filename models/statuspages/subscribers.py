"""A status page's subscribers (endpoints 112-114) and the notices they get.

Anyone may subscribe an email address or a webhook URL to a page that takes subscriptions
(`subscription_enabled`; a private one only once admitted). The subscription waits until it
is confirmed through the link sent over its own channel (double opt-in), so nobody can
subscribe another's address; the answer is the same whether the address was new, pending or
confirmed, and the sends are rate limited per address and per client.

The token in the links is the subscriber's id signed with the installation's key
(itsdangerous), so nothing secret is stored; a subscription deleted and made again gets a new
id, and the old links are void. It both confirms and unsubscribes (DESIGN.md).

Confirmed subscribers are told, through the outbox, when a component of their page goes down
or comes back (its monitor, heartbeat or server changes state, or a monitor whose `pinghome`
integration names it), when an incident whose `trigger-alerts` name one of the page's
components opens, is identified (acknowledged), changes or resolves, and an hour before a
maintenance window of a monitor a component follows (`announce_maintenance`, the
scheduler's). Each notice is keyed by subscriber and event, so a redelivered change or a step
run again tells nobody twice; every one carries the unsubscribe link, in mail also as
`List-Unsubscribe` (RFC 8058 one-click). Notices are sent independently: two close together
may arrive out of order (each says what and when).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import uuid

import itsdangerous

from models import integrations, outbox, ratelimit, state_changes, usage
from models.channels import values
from models.errors import Invalid, NotFound
from models.incidents import announcements
from models.monitors import maintenance
from models.monitors.tables import Monitor
from models.organisations import Organisation
from models.statuspages import status
from models.statuspages.tables import Component, StatusPage, Subscriber

CHANNEL_TYPES = ("email", "webhook")
CONFIRM, NOTICE = "statuspage.confirm", "statuspage.notice"
SUBJECT_COMPONENTS = {"monitor": "resource", "heartbeat": "heartbeat", "server": "server"}
MAINTENANCE_AHEAD = dt.timedelta(hours=1)     # how long before a window its notice goes out
INCIDENT_EVENTS = {"opened": "Investigating", "identified": "Identified",
                   "updated": "Update", "resolved": "Resolved"}


# -- subscribing ----------------------------------------------------------------------------

def subscribe(page: StatusPage, channel_type: str, channel_value: str, *, client_ip,
              settings, now) -> None:
    """Asks `channel_value` to confirm a subscription to `page` (again at each request while
    it is pending: the rate limits bound them); nothing is sent to a confirmed subscriber.
    `Invalid` for a page that takes none, `TooManyRequests` past the limits per address and
    per client."""
    if not page.subscription_enabled:
        raise Invalid("This status page takes no subscriptions.",
                      code="subscriptions_disabled")
    try:
        channel_value = values.normalise(channel_type, channel_value)
    except Invalid as exc:
        raise Invalid(exc.message, fields={"channel_value": exc.fields["value"]}) from None
    checks = [(settings.status_subscribe_rate_limit, "statuspage-subscribe",
               f"{channel_type}:{channel_value}")]
    if client_ip:
        checks.append((settings.status_subscribe_client_rate_limit,
                       "statuspage-subscribe-client", ratelimit.client_key(client_ip)))
    ratelimit.hit_all(*checks)
    same = ((Subscriber.page == page.id) & (Subscriber.channel_type == channel_type)
            & (Subscriber.channel_value == channel_value))
    subscriber = Subscriber.get_or_none(same)
    if subscriber is None:
        usage.ensure_room(Organisation.get_by_id(page.organisation_id), "subscribers",
                          scope=page)
        Subscriber.insert(id=uuid.uuid4(), page=page.id, channel_type=channel_type,
                          channel_value=channel_value,
                          created_at=now).on_conflict_ignore().execute()
        subscriber = Subscriber.get(same)
    if subscriber.confirmed_at is not None:
        return
    name = page.page_name or page.name
    outbox.queue(key=f"statuspage:confirm:{subscriber.id}:{uuid.uuid4()}",
                 type=channel_type, address=channel_value, kind=CONFIRM,
                 subject=f"Confirm your subscription to {name} status",
                 body=f"Someone asked for notices of {name}'s status to be sent here.",
                 payload=_about(subscriber.id, page, {"event": "subscription.confirm"}),
                 now=now)


def confirm(token_: str, *, settings, now) -> Subscriber:
    """Confirms the subscription the token names (confirming twice is fine)."""
    subscriber = subscriber_of(token_, settings=settings)
    if subscriber.confirmed_at is None:
        Subscriber.update(confirmed_at=now).where(Subscriber.id == subscriber.id,
                                                  Subscriber.confirmed_at.is_null()).execute()
    return Subscriber.get_by_id(subscriber.id)


def unsubscribe(token_: str, *, settings) -> None:
    subscriber_of(token_, settings=settings).delete_instance()


def subscriber_of(token_: str, *, settings) -> Subscriber:
    """The subscriber the token names; `NotFound` alike for a forged token and one whose
    subscription is gone."""
    try:
        subscriber_id = uuid.UUID(_signer(settings).loads(token_))
    except (itsdangerous.BadData, ValueError, TypeError):
        raise NotFound("No such subscription.") from None
    found = Subscriber.get_or_none(Subscriber.id == subscriber_id)
    if found is None:
        raise NotFound("No such subscription.")
    return found


def token(settings, subscriber_id) -> str:
    return _signer(settings).dumps(str(subscriber_id))


def link(settings, subscriber_id, action: str) -> str:
    """The address of the page that confirms or ends the subscription (`confirm`,
    `unsubscribe`): a GET shows a button, the POST acts, so that a mail scanner following
    links changes nothing."""
    return (f"{settings.public_url.rstrip('/')}/subscribers/"
            f"{token(settings, subscriber_id)}/{action}")


def _signer(settings) -> itsdangerous.URLSafeSerializer:
    return itsdangerous.URLSafeSerializer(settings.secret_key, salt="statuspage-subscriber")


# -- telling them ---------------------------------------------------------------------------

def on_state_change(changes, *, now) -> None:
    """A monitor, heartbeat or server that went down or came up: the confirmed subscribers
    of every page with a component following it are told, once per subscriber and change
    (a page with two components following it sends one notice naming both)."""
    changes = [c for c in changes if c.subject_type in SUBJECT_COMPONENTS and (
        c.to_status == "down" or (c.to_status == "up" and c.from_status == "down"))]
    wanted = {c.subject_id for c in changes}       # (a first check coming up is no news)
    if not wanted:
        return
    followers: dict[tuple, list] = {}
    for component in _told_components().where(Component.subject_id.in_(list(wanted))):
        followers.setdefault((component.type, str(component.subject_id)), []).append(component)
    integrated = integrations.components_following(
        [c.subject_id for c in changes if c.subject_type == "monitor"])
    named = {uuid.UUID(c) for found in integrated.values() for c in found}
    if named:
        by_id = {str(c.id): c for c in _told_components().where(Component.id.in_(list(named)))}
        for monitor_id, component_ids in integrated.items():
            followers.setdefault(("resource", monitor_id), []).extend(
                by_id[c] for c in component_ids if c in by_id)
    if not followers:
        return
    audience = _audience({c.page_id for found in followers.values() for c in found})
    messages = []
    for change in changes:
        by_page: dict = {}
        for component in followers.get((SUBJECT_COMPONENTS.get(change.subject_type),
                                        str(change.subject_id)), []):
            names = by_page.setdefault(component.page_id, [])
            if component.name not in names:
                names.append(component.name)
        down = change.to_status == "down"
        for page_id, names in by_page.items():
            page, subscribers = audience[page_id]
            what = ", ".join(sorted(names))
            event = {"event": "component.down" if down else "component.up",
                     "components": sorted(names),
                     "status": "major_outage" if down else "operational",
                     "at": change.changed_at.isoformat()}
            text = (f"{what} is down" + (f": {change.cause}" if change.cause else ".")
                    if down else f"{what} is operational again.")
            messages.extend(_notice(subscriber, page, key=f"change:{change.id}", text=text,
                                    subject=f"{what}: "
                                    + ("major outage" if down else "operational"),
                                    event=event) for subscriber in subscribers)
    outbox.queue_many(messages, now=now)


def on_incident(incidents, event: str, *, now) -> None:
    """An incident opened, identified, changed or resolved: the confirmed subscribers of the
    pages whose components its `trigger-alerts` name are told, once per subscriber, incident
    and event."""
    naming = [i for i in incidents if any(action.get("type") == "trigger-alerts"
                                          for action in i.actions or [])]
    if not naming:
        return
    components = list(_told_components().where(
        StatusPage.organisation.in_(list({i.organisation_id for i in naming}))))
    pages = {str(c.id): str(c.page_id) for c in components}
    names = {str(c.id): c.name for c in components}
    named = {i.id: status.named_components(i.actions, pages) for i in naming}
    audience = _audience({uuid.UUID(pages[c]) for found in named.values() for c in found})
    label = INCIDENT_EVENTS[event]
    messages = []
    for incident in naming:
        by_page: dict = {}
        for component_id in named[incident.id]:
            by_page.setdefault(uuid.UUID(pages[component_id]), []).append(names[component_id])
        stamp = f":{incident.updated_at.timestamp():.0f}" if event == "updated" else ""
        for page_id, found in by_page.items():
            page, subscribers = audience[page_id]
            text = (f"{label}: {incident.name}\n\nAffected: {', '.join(sorted(found))}"
                    + (f"\n\n{incident.description}" if incident.description else ""))
            about = {"event": f"incident.{event}", "components": sorted(found),
                     "incident": {"id": str(incident.id), "name": incident.name,
                                  "urgency": incident.urgency,
                                  "status": "resolved" if event == "resolved" else "open"}}
            messages.extend(_notice(subscriber, page, key=f"incident:{incident.id}:{event}{stamp}",
                                    subject=f"{label}: {incident.name}", text=text,
                                    event=about) for subscriber in subscribers)
    outbox.queue_many(messages, now=now)


def announce_maintenance(*, now) -> None:
    """Tells the confirmed subscribers of each page of the maintenance windows of the monitors
    its components follow that begin within the hour or are under way, once per subscriber
    and window (the scheduler asks every minute; a missed minute is caught up while the
    window lasts)."""
    rows = (_told_components().select_extend(Monitor.maintenance_cron_expression,
                                             Monitor.maintenance_duration)
            .switch(Component).join(Monitor, on=(Component.subject_id == Monitor.id))
            .where(Component.type == "resource", Monitor.enabled == True,  # noqa: E712
                   Monitor.maintenance_cron_expression.is_null(False))
            .objects())
    coming: dict = {}
    for row in rows:
        page_id, name, monitor_id = row.page_id, row.name, row.subject_id
        expression, minutes = row.maintenance_cron_expression, row.maintenance_duration
        found = maintenance.windows(expression, minutes, now, now + MAINTENANCE_AHEAD)
        if found:
            coming.setdefault((page_id, monitor_id, found[0]), []).append(name)
    if not coming:
        return
    audience = _audience({page_id for page_id, _, _ in coming})
    messages = []
    for (page_id, monitor_id, (opens, closes)), names in coming.items():
        page, subscribers = audience[page_id]
        what = ", ".join(sorted(set(names)))
        when = f"{opens:%d %b %Y %H:%M} to {closes:%H:%M} UTC" if opens.date() == closes.date() \
            else f"{opens:%d %b %Y %H:%M} to {closes:%d %b %Y %H:%M} UTC"
        event = {"event": "maintenance.scheduled", "components": sorted(set(names)),
                 "starts_at": opens.isoformat(), "ends_at": closes.isoformat()}
        messages.extend(_notice(subscriber, page, key=f"maintenance:{monitor_id}:"
                                f"{opens.timestamp():.0f}", subject=f"Maintenance: {what}",
                                text=f"Scheduled maintenance of {what}, {when}.", event=event)
                        for subscriber in subscribers)
    outbox.queue_many(messages, now=now)


def _told_components():
    """The components of the enabled pages that take subscriptions."""
    return (Component.select(Component.id, Component.page, Component.name, Component.type,
                             Component.subject_id)
            .join(StatusPage).where(StatusPage.enabled == True,  # noqa: E712
                                    StatusPage.subscription_enabled == True))  # noqa: E712


def _audience(page_ids) -> dict:
    """Each page (by id) with its confirmed subscribers, in two queries."""
    if not page_ids:
        return {}
    pages = {page.id: (page, []) for page in StatusPage.select().where(
        StatusPage.id.in_(list(page_ids)))}
    for subscriber in Subscriber.select().where(Subscriber.page.in_(list(page_ids)),
                                                Subscriber.confirmed_at.is_null(False)):
        pages[subscriber.page_id][1].append(subscriber)
    return pages


def _notice(subscriber, page, *, key: str, subject: str, text: str,
            event: dict) -> outbox.Queued:
    return outbox.Queued(key=f"statuspage:notice:{subscriber.id}:{key}"[:200], kind=NOTICE,
                         subject=f"[{page.page_name or page.name}] {subject}"[:255], body=text,
                         payload=_about(subscriber.id, page, event),
                         type=subscriber.channel_type, address=subscriber.channel_value)


def _about(subscriber_id, page, event: dict) -> dict:
    """What `_render` completes the message from."""
    return {"subscriber": str(subscriber_id), "page": {
        "id": str(page.id), "name": page.page_name or page.name, "subdomain": page.subdomain},
        **event}


def _render(message: outbox.Message, settings) -> outbox.Message:
    """Adds the links (signed with the installation's key, at its address): to confirm, or
    to the page and to unsubscribe, in the text, as `List-Unsubscribe` headers of a mail, in
    a webhook's JSON."""
    about = dict(message.payload or {})
    subscriber_id = about.pop("subscriber")
    page = about["page"]
    page["url"] = f"{settings.public_url.rstrip('/')}/status/{page['subdomain']}"
    if about["event"] == "subscription.confirm":
        confirm = link(settings, subscriber_id, "confirm")
        body = (f"{message.body}\n\nTo confirm, open:\n{confirm}\n\nIf it was not you, "
                "ignore this message: nothing will be sent without confirmation.\n")
        about.update(confirm_url=confirm, token=token(settings, subscriber_id))
        headers = {}
    else:
        leave = link(settings, subscriber_id, "unsubscribe")
        body = (f"{message.body}\n\nThe status page: {page['url']}\n\n"
                f"To stop these notices: {leave}\n")
        about["unsubscribe_url"] = leave
        headers = {"List-Unsubscribe": f"<{leave}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    payload = about if message.type == "webhook" else {"headers": headers}
    return dataclasses.replace(message, body=body, payload=payload)


state_changes.on_change(on_state_change)
announcements.on_event(on_incident)
outbox.on_render(CONFIRM, _render)
outbox.on_render(NOTICE, _render)
