"""Status page subscriptions (endpoints 112-114): what a request may carry. The channel's
value is put in normal form (and refused) by `models.channels.values`, as a channel's is."""
from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from api.schemas.base import Body


class SubscriptionCreate(Body):
    channel_type: Literal["email", "webhook"]
    channel_value: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                    max_length=2000)] = Field(
        description="the email address, or the http(s) URL a webhook is posted to")
    statuspage_id: uuid.UUID | None = Field(
        None, description="the page; without it, the page whose address the request came to")
