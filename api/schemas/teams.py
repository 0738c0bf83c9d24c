"""Teams, members and invitations (endpoints 22-32, and acting on an invitation)."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

import pydantic
from pydantic import StringConstraints

from api.schemas.base import Body, Role, Title
from models.clock import isoformat

ChannelValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3,
                                                max_length=254)]


class TeamBody(Body):
    name: Title


class InvitationBody(Body):
    channel_value: ChannelValue
    channel_type: Literal["email", "sms"] = "email"
    role: Role = "user"


class InvitationTarget(Body):
    channel_value: ChannelValue


class MemberUpdate(Body):
    role: Role | None = None
    new_team_id: uuid.UUID | None = None

    @pydantic.model_validator(mode="after")
    def _something(self):
        if self.role is None and self.new_team_id is None:
            raise ValueError("give role, new_team_id or both")
        return self


def team_out(team, role: str, member_count: int) -> dict:
    return {"id": str(team.id), "team_id": str(team.id), "name": team.name, "role": role,
            "member_count": member_count, "created_at": isoformat(team.created_at)}


def member_out(membership) -> dict:
    customer = membership.customer
    return {"customer_id": str(customer.id), "email": customer.email,
            "name": f"{customer.name} {customer.surname}".strip(), "role": membership.role,
            "team_id": str(membership.team_id), "joined_at": isoformat(membership.joined_at)}


def invitation_out(invitation, now) -> dict:
    sender = invitation.sender
    return {
        "id": str(invitation.id), "team_id": str(invitation.team_id),
        "channel_type": invitation.channel_type, "channel_value": invitation.channel_value,
        "type": invitation.type, "role": invitation.role, "status": invitation.status_at(now),
        "sender": None if sender is None else {
            "customer_id": str(sender.id), "email": sender.email,
            "name": f"{sender.name} {sender.surname}".strip()},
        "created_at": isoformat(invitation.created_at),
        "expires_at": isoformat(invitation.expires_at),
        "last_sent_at": isoformat(invitation.last_sent_at),
        "reminders_sent": invitation.reminders_sent,
        "responded_at": isoformat(invitation.responded_at),
    }


def public_invitation_out(invitation, now) -> dict:
    """What the token's bearer may see: which team invites them, not who else is invited."""
    sender = invitation.sender
    return {"team": {"id": str(invitation.team.id), "name": invitation.team.name},
            "role": invitation.role, "status": invitation.status_at(now),
            "channel_type": invitation.channel_type,
            "sender_name": None if sender is None else f"{sender.name} {sender.surname}".strip(),
            "expires_at": isoformat(invitation.expires_at)}
