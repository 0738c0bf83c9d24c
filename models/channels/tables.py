"""Notification channels, and the deliveries of messages over them (or over an address)."""
from __future__ import annotations

import peewee

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


class Delivery(UUIDModel):
    """One message to send over a channel (or, without one, to a bare address such as the
    phone number of an invitation). An outbox row: see `models.outbox`."""
    channel = peewee.ForeignKeyField(NotificationChannel, null=True, backref="deliveries",
                                     on_delete="CASCADE")
    type = peewee.CharField(max_length=16)
    address = peewee.TextField()
    kind = peewee.CharField(max_length=32)      # verification, test, invitation, alert ...
    subject = peewee.CharField(max_length=255)
    body = peewee.TextField()
    payload = peewee.TextField(null=True)       # JSON for webhooks, when the kind has one
    status = peewee.CharField(max_length=16, index=True)
    attempts = peewee.IntegerField(default=0)
    last_error = peewee.TextField(null=True)
    created_at = UtcDateTimeField()
    last_attempt_at = UtcDateTimeField(null=True)
    claimed_until = UtcDateTimeField(null=True)
    sent_at = UtcDateTimeField(null=True)
