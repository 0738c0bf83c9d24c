"""Notification channels. The messages sent over them are `models.outbox` deliveries."""
from __future__ import annotations

import peewee

from models import outbox  # noqa: F401  (declares Delivery, whose deferred key points here)
from models.accounts import Customer
from models.db import UtcDateTimeField, UUIDModel
from models.organisations import Team


class NotificationChannel(UUIDModel):
    """A way to reach a customer (personal) or a team: exactly one of `customer`, `team`.

    `priority` is the channel's place in its owner's delivery order, 1 first, dense."""
    customer = peewee.ForeignKeyField(Customer, null=True, backref="channels",
                                      on_delete="CASCADE")
    team = peewee.ForeignKeyField(Team, null=True, backref="channels", on_delete="CASCADE")
    type = peewee.CharField(max_length=16)
    value = peewee.TextField()
    priority = peewee.IntegerField()
    enabled = peewee.BooleanField(default=True)
    verified_at = UtcDateTimeField(null=True)
    code_hash = peewee.CharField(max_length=64, null=True)
    code_expires_at = UtcDateTimeField(null=True)
    code_attempts = peewee.IntegerField(default=0)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        indexes = ((("customer", "priority"), True), (("team", "priority"), True))

    @property
    def is_deliverable(self) -> bool:
        return self.enabled and self.verified_at is not None

