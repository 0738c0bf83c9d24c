"""Invitations to join a team, by email or SMS, each with a single-use token that expires.

The invitee acts on the token signed in (`accept` or `decline`). Accepting joins the team with
the invited role; someone whose account sits alone in an organisation of their own (as after
signing up to accept) moves into the inviting organisation, and the empty one goes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets

import peewee

from models import channels, organisations, outbox, usage
from models.accounts import Customer
from models.channels.values import normalise
from models.db import UtcDateTimeField, UUIDModel, database, serialized
from models.errors import Conflict, Forbidden, Invalid, NotFound, TooManyRequests
from models.organisations import Membership, Organisation, Team
from models.services import Service

TTL = dt.timedelta(days=7)
REMIND_EVERY = dt.timedelta(minutes=10)
MAX_REMINDERS = 5


class Invitation(UUIDModel):
    team = peewee.ForeignKeyField(Team, backref="invitations", on_delete="CASCADE")
    channel_type = peewee.CharField(max_length=8)            # email or sms
    channel_value = peewee.CharField(max_length=254)
    role = peewee.CharField(max_length=16)
    type = peewee.CharField(max_length=32)                    # existing_account, new_account
    token_hash = peewee.CharField(max_length=64, unique=True)
    sender = peewee.ForeignKeyField(Customer, null=True, on_delete="SET NULL")
    status = peewee.CharField(max_length=16)                  # pending, accepted, declined
    created_at = UtcDateTimeField()
    expires_at = UtcDateTimeField()
    last_sent_at = UtcDateTimeField()
    reminders_sent = peewee.IntegerField(default=0)
    responded_at = UtcDateTimeField(null=True)

    class Meta:
        indexes = ((("team", "channel_value"), True),)

    def status_at(self, now) -> str:
        return "expired" if self.status == "pending" and self.expires_at <= now else self.status


def invite(caller, team_id, *, channel_type: str, channel_value: str, role: str, settings,
           now) -> Invitation:
    """Sends an invitation (owners only). Refused for a current member and for an address
    with a pending invitation; a declined or expired one is replaced. Rate limited per
    invited address and per organisation (`channels.limit_sends`), deletions in between
    included. Its `type` is `existing_account` for an account of the inviting organisation
    only: an account elsewhere is `new_account` too, so inviting tells no one who else has
    an account."""
    team = organisations.team_for(caller, team_id, "owner")
    value = normalise(channel_type, channel_value)
    existing = Customer.get_or_none(Customer.email == value,
                                    Customer.organisation == team.organisation_id
                                    ) if channel_type == "email" else None
    with serialized():
        if existing and Membership.select().where(Membership.team == team,
                                                  Membership.customer == existing).exists():
            raise Conflict("This person is a member of the team already.",
                           fields={"channel_value": "already a member"}, code="already_member")
        previous = Invitation.get_or_none(Invitation.team == team,
                                          Invitation.channel_value == value)
        if previous and previous.status_at(now) == "pending":
            raise Conflict("An invitation to this address is pending; send a reminder instead.",
                           fields={"channel_value": "invited already"}, code="already_invited")
        usage.ensure_room(Organisation.get_by_id(team.organisation_id), "members", now=now)
        _limit_sends(team, value, settings=settings)
        if previous:
            previous.delete_instance()
        token = secrets.token_urlsafe(24)
        invitation = Invitation.create(
            team=team, channel_type=channel_type, channel_value=value, role=role,
            type="existing_account" if existing else "new_account",
            token_hash=_digest(settings, token), sender=caller.customer.id, status="pending",
            created_at=now, expires_at=now + TTL, last_sent_at=now)
        _send(invitation, token, team, caller.customer, settings=settings, now=now)
    return invitation


def list_invitations(caller, team_id) -> list[Invitation]:
    team = organisations.team_for(caller, team_id, "user")
    return list(Invitation.select(Invitation, Customer)
                .join(Customer, peewee.JOIN.LEFT_OUTER, on=(Invitation.sender == Customer.id))
                .where(Invitation.team == team).order_by(Invitation.created_at))


def delete_invitation(caller, team_id, *, channel_value: str) -> None:
    team = organisations.team_for(caller, team_id, "owner")
    deleted = Invitation.delete().where(Invitation.team == team,
                                        Invitation.channel_value == _normal(channel_value)).execute()
    if not deleted:
        raise NotFound("No invitation was sent to this address.")


def remind(caller, team_id, *, channel_value: str, settings, now) -> Invitation:
    """Sends the invitation again with a fresh token (the old link stops working) and a new
    expiry; at most every 10 minutes and 5 times."""
    team = organisations.team_for(caller, team_id, "owner")
    invitation = Invitation.get_or_none(Invitation.team == team,
                                        Invitation.channel_value == _normal(channel_value))
    if invitation is None:
        raise NotFound("No invitation was sent to this address.")
    if invitation.status != "pending":
        raise Conflict(f"This invitation was {invitation.status}; invite again instead.",
                       code="invitation_closed")
    wait = invitation.last_sent_at + REMIND_EVERY - now
    if wait > dt.timedelta(0):
        raise TooManyRequests("A reminder was sent a moment ago; try again later.",
                              retry_after_seconds=math.ceil(wait.total_seconds()))
    if invitation.reminders_sent >= MAX_REMINDERS:
        raise TooManyRequests(f"This invitation was sent {MAX_REMINDERS + 1} times already.",
                              code="reminders_exhausted")
    _limit_sends(team, invitation.channel_value, settings=settings)
    token = secrets.token_urlsafe(24)
    with database.atomic():
        (Invitation.update(token_hash=_digest(settings, token), last_sent_at=now,
                           expires_at=now + TTL, reminders_sent=Invitation.reminders_sent + 1)
         .where(Invitation.id == invitation.id).execute())
        invitation = Invitation.get_by_id(invitation.id)
        _send(invitation, token, team, caller.customer, settings=settings, now=now)
    return invitation


def by_token(token: str, *, settings) -> Invitation:
    invitation = (Invitation.select(Invitation, Team).join(Team)
                  .where(Invitation.token_hash == _digest(settings, token)).first())
    if invitation is None:
        raise NotFound("No such invitation; it may have been replaced by a reminder.")
    return invitation


def accept(caller, token: str, *, settings, now) -> Membership:
    """Joins the invitation's team with the invited role. Single-use; an expired invitation
    or one sent to another address is refused."""
    with serialized():
        invitation = _open(caller, token, settings=settings, now=now)
        team = invitation.team
        customer = Customer.get_by_id(caller.customer.id)
        if customer.organisation_id != team.organisation_id:
            _move_to(customer, team.organisation_id)
        membership, _ = Membership.get_or_create(
            team=team, customer=customer, defaults={"role": invitation.role, "joined_at": now})
        _close(invitation, "accepted", now)
    return membership


def decline(caller, token: str, *, settings, now) -> Invitation:
    with serialized():
        invitation = _open(caller, token, settings=settings, now=now)
        _close(invitation, "declined", now)
    return Invitation.get_by_id(invitation.id)


def _open(caller, token, *, settings, now) -> Invitation:
    invitation = by_token(token, settings=settings)
    status = invitation.status_at(now)
    if status != "pending":
        raise Conflict(f"This invitation is {status}.", code=f"invitation_{status}")
    if invitation.channel_type == "email" and invitation.channel_value != caller.customer.email:
        raise Forbidden("This invitation was sent to another address; sign in with that one.",
                        code="invitation_for_someone_else")
    return invitation


def _close(invitation, status, now) -> None:
    closed = (Invitation.update(status=status, responded_at=now)
              .where(Invitation.id == invitation.id, Invitation.status == "pending").execute())
    if closed != 1:
        raise Conflict("This invitation was answered already.", code="invitation_answered")


def _move_to(customer, organisation_id) -> None:
    """Moves an account that is alone in its own organisation (no other member, no services)
    into another organisation, and deletes the one it leaves."""
    old = customer.organisation_id
    others = organisations.organisation_members(old).where(
        Membership.customer != customer.id).exists()
    has_services = Service.select().join(Team).where(Team.organisation == old).exists()
    if others or has_services:
        raise Conflict("You belong to another organisation that has other members or services; "
                       "leave it (delete your account there) before joining this one.",
                       code="other_organisation")
    Customer.update(organisation=organisation_id).where(Customer.id == customer.id).execute()
    organisations.delete_organisation(old)


def _limit_sends(team, value: str, *, settings) -> None:
    channels.limit_sends(team.organisation_id, f"invitation:{value}", settings=settings)


def _send(invitation, token, team, sender, *, settings, now) -> None:
    """Queues the invitation, or its reminder (the n-th sending is keyed by n, so each one
    goes out once)."""
    link = f"{settings.public_url}/v1/invitation/{token}"
    who = f"{sender.name} {sender.surname}".strip()
    reminder = invitation.reminders_sent > 0
    subject = f"{'Reminder: ' if reminder else ''}{who} invites you to {team.name} on Pinghome"
    body = (f"{who} invites you to join the team '{team.name}' on Pinghome as {invitation.role}."
            f"\n\nSign in (or sign up) and accept: POST {link}/acceptance\n"
            f"Or decline: POST {link}/decline\nThe invitation expires in 7 days.\n")
    if invitation.channel_type != "email":
        body = f"{subject}: {link}/acceptance"
    outbox.queue(key=f"invitation:{invitation.id}:{invitation.reminders_sent}",
                 type=invitation.channel_type, address=invitation.channel_value,
                 kind="invitation", subject=subject, body=body, now=now)


def _normal(channel_value: str) -> str:
    """The stored form of an address given without its type (email or phone number)."""
    for kind in ("email", "sms"):
        try:
            return normalise(kind, channel_value)
        except Invalid:
            continue
    return channel_value.strip()


def _digest(settings, token: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"invitation:{token}".encode(),
                    hashlib.sha256).hexdigest()
