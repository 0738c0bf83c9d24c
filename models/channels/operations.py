"""Managing notification channels, personal (a customer's) or a team's.

A new or changed channel is unverified: a 6-digit code goes out over the channel itself and
the owner enters it. Only verified, enabled channels receive alerts, in priority order.
Every message over a channel goes through the outbox (`models.outbox.queue`).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
import uuid

import peewee

from models import organisations, outbox, ratelimit, usage
from models.accounts import Customer
from models.channels.tables import NotificationChannel
from models.channels.values import normalise
from models.db import locked, serialized
from models.errors import CodeExpired, CodeInvalid, Conflict, NotFound, TooManyRequests
from models.organisations import Membership, Organisation, Team

CODE_TTL = dt.timedelta(hours=24)   # webhook and chat owners may need a while to look


@dataclasses.dataclass(frozen=True)
class Owner:
    kind: str             # "customer" or "team"
    id: object
    organisation: Organisation
    shows_secrets: bool   # the caller may see signing secrets and whole webhook/chat values

    @property
    def column(self):
        return NotificationChannel.customer if self.kind == "customer" else NotificationChannel.team


def owner_for(caller, kind: str, owner_id, role: str = "user") -> Owner:
    """The channels' owner: the caller themself (another customer's id is not found), or a
    team in which the caller holds `role`. Secrets show to the customer themself and to a
    team's managers and owners, not to its users."""
    if kind == "customer":
        if str(owner_id) != str(caller.customer.id):
            raise NotFound("No such customer.")
        return Owner("customer", caller.customer.id,
                     Organisation.get_by_id(caller.organisation_id), shows_secrets=True)
    team, held = organisations.team_and_role(caller, owner_id, role)
    return Owner("team", team.id, Organisation.get_by_id(team.organisation_id),
                 shows_secrets=organisations.outranks(held, "manager"))


def create_channel(owner: Owner, *, type: str, value: str, settings, now) -> NotificationChannel:
    """Adds a channel last in the owner's order and sends its verification code over it.
    Refused (429, nothing created) once the channel's or the organisation's sends are spent."""
    value = normalise(type, value)
    with serialized():
        _lock(owner)
        owned = _owned(owner)
        usage.ensure_room(owner.organisation, "notification_channels", scope=owner)
        if owned.where(NotificationChannel.type == type,
                       NotificationChannel.value == value).exists():
            raise Conflict(f"This {type} channel exists already.", fields={"value": "duplicate"},
                           code="duplicate_channel")
        _limit_sends(owner, type, value, settings=settings)
        priority = (owned.select(peewee.fn.MAX(NotificationChannel.priority)).scalar() or 0) + 1
        channel = NotificationChannel.create(
            **{owner.kind: owner.id}, type=type, value=value, priority=priority,
            created_at=now, updated_at=now)
        _send_code(channel, settings=settings, now=now)
    return channel


def list_channels(owner: Owner, *, include_types=(), exclude_types=()) -> list[NotificationChannel]:
    query = _owned(owner).order_by(NotificationChannel.priority)
    if include_types:
        query = query.where(NotificationChannel.type.in_(list(include_types)))
    if exclude_types:
        query = query.where(NotificationChannel.type.not_in(list(exclude_types)))
    return list(query)


def update_channel(owner: Owner, *, priority: int, value: str, settings, now) -> NotificationChannel:
    """Changes the value of the channel at `priority`; it is unverified until the new code,
    sent over the new value, is entered. The same value again re-sends a code (rate limited
    as every send on request is)."""
    with serialized():
        channel = _at(owner, priority)
        value = normalise(channel.type, value)
        if value == channel.value and channel.verified_at is not None:
            return channel
        _limit_sends(owner, channel.type, value, settings=settings)
        (NotificationChannel.update(value=value, verified_at=None, updated_at=now)
         .where(NotificationChannel.id == channel.id).execute())
        channel = NotificationChannel.get_by_id(channel.id)
        _send_code(channel, settings=settings, now=now)
    return channel


def verify_channel(owner: Owner, *, priority: int, code: str, settings, now) -> NotificationChannel:
    """Marks the channel verified if `code` is its latest; a few wrong tries kill the code."""
    channel = _at(owner, priority)
    if channel.verified_at is not None:
        raise Conflict("This channel is verified already.", code="already_verified")
    if channel.code_hash is None or channel.code_expires_at <= now:
        raise CodeExpired("The code has expired; update the channel with the same value to "
                          "get a new one.", fields={"code": "expired"})
    counted = (NotificationChannel.update(code_attempts=NotificationChannel.code_attempts + 1)
               .where(NotificationChannel.id == channel.id,
                      NotificationChannel.code_attempts < settings.code_max_attempts).execute())
    if counted != 1:
        raise TooManyRequests("Too many wrong attempts; update the channel with the same value "
                              "to get a new code.", code="code_attempts_exhausted")
    if not hmac.compare_digest(channel.code_hash, _code_digest(settings, channel, code)):
        raise CodeInvalid("The code is wrong.", fields={"code": "wrong"})
    verified = (NotificationChannel.update(verified_at=now, code_hash=None, updated_at=now)
                .where(NotificationChannel.id == channel.id,
                       NotificationChannel.code_hash == channel.code_hash).execute())
    if verified != 1:
        raise CodeInvalid("This code was already used.", fields={"code": "already used"})
    return NotificationChannel.get_by_id(channel.id)


def delete_channels(owner: Owner, *, priorities: list[int]) -> int:
    """Deletes the channels at `priorities` and renumbers the rest 1..n in their order."""
    with serialized():
        _lock(owner)
        found = list(_owned(owner).where(NotificationChannel.priority.in_(priorities)))
        if not found:
            raise NotFound("No channel has these priorities.")
        NotificationChannel.delete().where(
            NotificationChannel.id.in_([c.id for c in found])).execute()
        # ascending, so each row moves down into a slot already freed
        for place, channel in enumerate(_owned(owner).order_by(NotificationChannel.priority), 1):
            if channel.priority != place:
                (NotificationChannel.update(priority=place)
                 .where(NotificationChannel.id == channel.id).execute())
    return len(found)


def test_channel(owner: Owner, *, priority: int, settings, now) -> outbox.Delivery:
    """Queues a real test message over the channel, verified or not; rate limited per channel
    and per organisation, since an unverified channel may be anybody's address. Each request
    is a message of its own (its key is new)."""
    channel = _at(owner, priority)
    _limit_sends(owner, channel.type, channel.value, settings=settings)
    return outbox.queue(key=f"test:{uuid.uuid4()}", channel=channel, kind="test",
                        subject="Pinghome test message",
                        body="This is a test message from Pinghome: this channel works.",
                        payload={"type": "test", "channel_id": str(channel.id),
                                 "message": "This channel works."}, now=now)


def set_enabled(owner: Owner, *, priority: int, enabled: bool, now) -> NotificationChannel:
    channel = _at(owner, priority)
    (NotificationChannel.update(enabled=enabled, updated_at=now)
     .where(NotificationChannel.id == channel.id).execute())
    return NotificationChannel.get_by_id(channel.id)


def team_owner(team) -> Owner:
    """A team as the owner of its channels, for sending to them (no caller, no secrets)."""
    return Owner("team", team.id, Organisation.get_by_id(team.organisation_id),
                 shows_secrets=False)


def deliverable_channels(owner: Owner) -> list[NotificationChannel]:
    """The channels alerts go to, in priority order: verified and enabled only."""
    return deliverable_of(owner.kind, owner.id)


def deliverable_of(kind: str, owner_id) -> list[NotificationChannel]:
    """`deliverable_channels` of a customer's or a team's id (`kind`), for sending to them."""
    column = NotificationChannel.customer if kind == "customer" else NotificationChannel.team
    return list(NotificationChannel.select()
                .where(column == owner_id, NotificationChannel.enabled == True,  # noqa: E712
                       NotificationChannel.verified_at.is_null(False))
                .order_by(NotificationChannel.priority))


def messages_to_team(team_id, *, key: str, kind: str, subject: str, body: str,
                     payload: dict | None = None) -> list[outbox.Queued]:
    """What tells a team: a message over each of its deliverable channels, or, when it has
    none, a mail to each member's sign-in address, so that nothing is lost silently; each
    keyed by `key` and its destination."""
    channels = deliverable_of("team", team_id)
    if channels:
        return [outbox.Queued(key=f"{key}:{channel.id}", kind=kind, subject=subject, body=body,
                              payload=payload, channel=channel) for channel in channels]
    members = (Customer.select(Customer.id, Customer.email)
               .join(Membership, on=(Membership.customer == Customer.id))
               .where(Membership.team == team_id))
    return [outbox.Queued(key=f"{key}:customer:{member.id}", kind=kind, subject=subject,
                          body=body, type="email", address=member.email) for member in members]


def last_deliveries(channels) -> dict:
    """{channel_id: its newest delivery} for showing whether a channel works."""
    newest = {}
    for delivery in (outbox.Delivery.select()
                     .where(outbox.Delivery.channel.in_([c.id for c in channels]))
                     .order_by(outbox.Delivery.created_at)):
        newest[delivery.channel_id] = delivery
    return newest


def limit_sends(organisation_id, destination: str, *, settings) -> None:
    """Counts one message sent on request (a channel's verification code or test message, an
    invitation or its reminder) to `destination` (a channel, or an invited address, as a
    string unique within the organisation) and to the organisation; `TooManyRequests` once
    either is spent. Nobody has proved such a destination yet, so this is what keeps
    Pinghome from being used to mail, text (paid) or post to strangers."""
    digest = hashlib.sha256(destination.encode()).hexdigest()[:32]
    ratelimit.hit_all((settings.channel_send_rate_limit, "destination-send",
                       f"{organisation_id}:{digest}"),
                      (settings.organisation_send_rate_limit, "organisation-send",
                       str(organisation_id)))


def _owned(owner: Owner):
    return NotificationChannel.select().where(owner.column == owner.id)


def _at(owner: Owner, priority: int) -> NotificationChannel:
    channel = _owned(owner).where(NotificationChannel.priority == priority).first()
    if channel is None:
        raise NotFound(f"No channel has priority {priority}.")
    return channel


def _limit_sends(owner: Owner, type: str, value: str, *, settings) -> None:
    """A channel is named by its owner and value, not its id, so deleting and creating it
    again does not start its count afresh."""
    limit_sends(owner.organisation.id, f"{owner.kind}:{owner.id}:{type}:{value}",
                settings=settings)


def _lock(owner: Owner) -> None:
    """Serialises changes to one owner's channels (their priorities must stay dense)."""
    model = Customer if owner.kind == "customer" else Team
    locked(model.select(model.id).where(model.id == owner.id)).first()


def _send_code(channel: NotificationChannel, *, settings, now) -> None:
    code = f"{secrets.randbelow(1_000_000):06d}"
    digest = _code_digest(settings, channel, code)
    (NotificationChannel.update(code_hash=digest, code_expires_at=now + CODE_TTL,
                                code_attempts=0)
     .where(NotificationChannel.id == channel.id).execute())
    # keyed by the code it carries: should a new code for this channel repeat an earlier one
    # (one in a million), nothing is queued, and asking again draws another
    outbox.queue(key=f"channel-verification:{channel.id}:{digest[:16]}",
                 channel=channel, kind="verification",
                 subject="Verify your Pinghome notification channel",
                 body=f"Your Pinghome verification code is {code}. Enter it to start "
                      f"receiving alerts here.",
                 payload={"type": "verification", "channel_id": str(channel.id), "code": code},
                 now=now)


def _code_digest(settings, channel, code: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"channel:{channel.id}:{code}".encode(),
                    hashlib.sha256).hexdigest()
