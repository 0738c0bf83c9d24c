"""Notification channels, personal and team (endpoints 15-21 and 33-39)."""
from __future__ import annotations

from typing import Annotated, Literal

import pydantic
from pydantic import StringConstraints

from api.schemas.base import Body, Code, Page, Priority, Query, csv_list
from models import channels, outbox
from models.clock import isoformat

ChannelType = Literal["email", "sms", "webhook", "slack", "discord", "msteams", "telegram"]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
                  pydantic.Field(description="By type: an email address (at most 254 characters), "
                                 "a phone number in international form, an http(s) URL, or a "
                                 "Telegram BOT_TOKEN/CHAT_ID")]
# Filters take any type name (the spec's own example excludes "push-notification", a type
# we do not have): an unknown name matches nothing.
TypeList = Annotated[list[Annotated[str, StringConstraints(max_length=32)]],
                     pydantic.BeforeValidator(csv_list)]
PriorityList = Annotated[list[Priority], pydantic.BeforeValidator(csv_list),
                         pydantic.Field(min_length=1)]


class ChannelCreate(Body):
    value: Value
    type: ChannelType


class ChannelUpdate(Body):
    value: Value
    priority: Priority


class ChannelVerification(Body):
    code: Code
    priority: Priority


class ChannelPriority(Body):
    priority: Priority


class ChannelEnabled(Body):
    enabled: bool
    priority: Priority


class ChannelFilter(Page):
    include_types: TypeList = []
    exclude_types: TypeList = []


class ChannelDeletion(Query):
    priority: PriorityList


def channel_out(channel, last_delivery, settings, shows_secrets: bool) -> dict:
    """A channel; without `shows_secrets` (a team's `user`) no signing secret, and webhook and
    chat values (credentials themselves) cut to their host."""
    value = channel.value if shows_secrets else channels.shown(channel.type, channel.value)
    shaped = {
        "id": str(channel.id), "type": channel.type, "value": value,
        "priority": channel.priority, "enabled": channel.enabled,
        "verified": channel.verified_at is not None,
        "verified_at": isoformat(channel.verified_at),
        "status": ("active" if channel.is_deliverable else
                   "disabled" if channel.verified_at else "unverified"),
        "created_at": isoformat(channel.created_at), "updated_at": isoformat(channel.updated_at),
        "last_delivery": None if last_delivery is None else {
            "id": str(last_delivery.id), "kind": last_delivery.kind,
            "status": last_delivery.status, "error": last_delivery.last_error,
            "created_at": isoformat(last_delivery.created_at),
            "sent_at": isoformat(last_delivery.sent_at)},
    }
    if channel.type == "webhook" and shows_secrets:
        shaped["signing_secret"] = outbox.signing_key(settings, channel.id).hex()
    return shaped
