"""Status pages, their groups, components and subscribers.

A component stores the status it was given (`manual_status`), which only a `manual` component
shows; every other component's status is derived when asked (`models.statuspages.status`), so
nothing stored can go stale.
"""
from __future__ import annotations

import peewee

from models.db import JSONField, UtcDateTimeField, UUIDModel
from models.organisations import Organisation

PAGE_TYPES = ("public", "private")
COMPONENT_TYPES = ("resource", "heartbeat", "server", "manual")
# in the order a component shows the worst of them
STATUSES = ("operational", "under_maintenance", "degraded_performance", "partial_outage",
            "major_outage")


class StatusPage(UUIDModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    name = peewee.CharField(max_length=200)
    description = peewee.TextField(null=True)
    subdomain = peewee.CharField(max_length=63, unique=True)
    domain = peewee.CharField(max_length=253, null=True, unique=True)
    type = peewee.CharField(max_length=16, default="public")
    password_hash = peewee.CharField(max_length=200, null=True)   # argon2; never answered
    ip_addresses = JSONField()                                     # ["10.0.0.0/8", ...]
    enabled = peewee.BooleanField(default=True)
    page_name = peewee.CharField(max_length=200, null=True)
    dark_theme = peewee.BooleanField(default=False)
    favicon = peewee.CharField(max_length=500, null=True)
    logo = peewee.CharField(max_length=500, null=True)
    redirect_to_https = peewee.BooleanField(default=True)
    remove_branding = peewee.BooleanField(default=False)
    robots_meta_contents = JSONField()                             # ["index", ...]
    website_url = peewee.CharField(max_length=2000, null=True)
    privacy_url = peewee.CharField(max_length=2000, null=True)
    support_url = peewee.CharField(max_length=2000, null=True)
    ga_tracking = peewee.CharField(max_length=64, null=True)
    subscription_enabled = peewee.BooleanField(default=False)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class ComponentGroup(UUIDModel):
    page = peewee.ForeignKeyField(StatusPage, backref="groups", on_delete="CASCADE")
    name = peewee.CharField(max_length=200)
    position = peewee.IntegerField()


class Component(UUIDModel):
    page = peewee.ForeignKeyField(StatusPage, backref="components", on_delete="CASCADE")
    group = peewee.ForeignKeyField(ComponentGroup, null=True, backref="components",
                                   on_delete="CASCADE")
    name = peewee.CharField(max_length=200)
    description = peewee.TextField(null=True)
    type = peewee.CharField(max_length=16)
    subject_id = peewee.UUIDField(null=True)      # a monitor, heartbeat or server of the page's
    manual_status = peewee.CharField(max_length=32, default="operational")
    position = peewee.IntegerField()
    created_at = UtcDateTimeField()

    class Meta:
        indexes = ((("type", "subject_id"), False),)


class Subscriber(UUIDModel):
    page = peewee.ForeignKeyField(StatusPage, backref="subscribers", on_delete="CASCADE")
    channel_type = peewee.CharField(max_length=16)
    channel_value = peewee.CharField(max_length=2000)
    confirmed_at = UtcDateTimeField(null=True)
    created_at = UtcDateTimeField()

    class Meta:
        indexes = ((("page", "channel_type", "channel_value"), True),)
