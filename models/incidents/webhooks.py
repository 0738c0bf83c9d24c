"""Incident webhooks (endpoints 89-92): addresses alert sources (Alertmanager, Grafana, scripts)
post events to through the gateway, and the events they received.

An event is taken in like a heartbeat signal: the gateway packs it as a `webhook_event` row in
COPY's text format and appends it to the webhook events' stream (`models.streams`: group
commit, answered once durable in Redis), and flushers store batches of them (`events`);
embedded, the gateway stores it before it answers.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import peewee

from models import copytext, organisations
from models.db import BaseModel, UtcDateTimeField, UUIDModel
from models.errors import Invalid, NotFound
from models.organisations import Organisation, Team
from models.streams import Stream, client_for

BODY_KEEP = 256 * 1024         # bytes of a posted body kept; the rest is dropped
STREAM = "pinghome:webhook-events"
COLUMNS = ("key", "webhook_id", "content_type", "body", "ip", "received_at")
_UTC = dt.timezone.utc


class Webhook(UUIDModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    team = peewee.ForeignKeyField(Team, backref="webhooks", on_delete="CASCADE")
    name = peewee.CharField(max_length=200, null=True)
    description = peewee.TextField(null=True)
    created_at = UtcDateTimeField()


class WebhookEvent(BaseModel):
    """One post as the gateway received it, keyed by the gateway's id for it (a batch stored
    twice keeps one row each)."""
    key = peewee.CharField(max_length=32, primary_key=True)
    webhook = peewee.ForeignKeyField(Webhook, backref="events", on_delete="CASCADE")
    content_type = peewee.CharField(max_length=255, null=True)
    body = peewee.TextField()
    ip = peewee.CharField(max_length=64, null=True)
    received_at = UtcDateTimeField()
    rules_applied_at = UtcDateTimeField(null=True)    # when the rulesets were held against it

    class Meta:
        indexes = ((("webhook", "received_at"), False),)


# -- configuration ----------------------------------------------------------------------------

def create_webhook(caller, *, name: str | None, description: str | None, team_id, now) -> Webhook:
    """A webhook of `team_id` (default: the caller's first team), which a manager creates."""
    team = _team(caller, team_id, "manager")
    return Webhook.create(organisation=team.organisation_id, team=team, name=name,
                          description=description, created_at=now)


def list_webhooks(caller) -> list[Webhook]:
    """The webhooks of the caller's teams, oldest first."""
    teams = [team.id for team, _ in organisations.caller_teams(caller)]
    return list(Webhook.select().where(Webhook.team.in_(teams)).order_by(Webhook.created_at))


def webhook_for(caller, webhook_id, role: str = "user") -> Webhook:
    """The webhook if the caller holds `role` in its team; `NotFound` alike for one that does
    not exist and one of another organisation."""
    webhook = Webhook.get_or_none(Webhook.id == webhook_id)
    if webhook is None:
        raise NotFound("No such webhook.")
    try:
        organisations.team_for(caller, webhook.team_id, role)
    except NotFound:
        raise NotFound("No such webhook.") from None
    return webhook


def list_events(caller, webhook_id, *, limit: int, before: dt.datetime | None):
    """The webhook's events, newest first, received before `before` (the last `received_at`
    of the previous page)."""
    webhook = webhook_for(caller, webhook_id)
    query = WebhookEvent.select().where(WebhookEvent.webhook == webhook.id)
    if before is not None:
        query = query.where(WebhookEvent.received_at < before)
    return list(query.order_by(WebhookEvent.received_at.desc()).limit(limit))


def _team(caller, team_id, role: str) -> Team:
    if team_id is None:
        found = organisations.caller_teams(caller)
        if not found:
            raise Invalid("You are in no team; name the webhook's team.",
                          fields={"team_id": "required"})
        team_id = found[0][0].id
    return organisations.team_for(caller, team_id, role)


# -- events -----------------------------------------------------------------------------------

def known_webhook(webhook_id: str) -> bool | None:
    """The gateway's directory look-up: True for a webhook that exists, None otherwise."""
    return True if Webhook.select().where(Webhook.id == webhook_id).exists() else None


def all_known_webhooks():
    """The gateway's directory, whole: every webhook."""
    for (webhook_id,) in Webhook.select(Webhook.id).tuples().iterator():
        yield str(webhook_id), True


@dataclasses.dataclass(slots=True)
class Event:
    """A posted event, as the gateway packs it and a flusher stores it."""
    key: str
    webhook_id: str
    content_type: str | None
    body: str
    ip: str | None
    received_at: dt.datetime
    packed: bytes | None = dataclasses.field(default=None, compare=False, repr=False)

    def pack(self) -> bytes:
        at = self.received_at.astimezone(_UTC).replace(tzinfo=None).isoformat(" ")
        return copytext.line([self.key, self.webhook_id, self.content_type, self.body, self.ip,
                              at])


def unpack(data: bytes) -> Event:
    key, webhook_id, content_type, body, ip, at = copytext.values(data)
    return Event(key, webhook_id, content_type, body, ip,
                 dt.datetime.fromisoformat(at).replace(tzinfo=_UTC), packed=data)


class EventStream(Stream):
    def __init__(self, client):
        super().__init__(client, STREAM, decode=unpack)

    def publish(self, event: Event) -> None:
        """Returns once the event is in Redis (raises if it could not be written)."""
        self.append(event.pack())


def stream_for(settings) -> EventStream | None:
    return EventStream(client_for(settings)) if settings.redis_url else None
