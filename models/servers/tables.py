"""Server monitors: the servers an agent reports on, their state changes and their readings."""
from __future__ import annotations

import peewee

from models.db import BaseModel, JSONField, UtcDateTimeField, UUIDModel
from models.services import Service

STATUSES = ("pending", "up", "down")


class Server(UUIDModel):
    service = peewee.ForeignKeyField(Service, backref="servers", on_delete="CASCADE")
    name = peewee.CharField(max_length=200)
    description = peewee.TextField(null=True)
    timezone = peewee.CharField(max_length=64, default="UTC")     # IANA name, for charts
    chart_type_default = peewee.CharField(max_length=16, default="line")
    enabled = peewee.BooleanField(default=True)
    token = peewee.CharField(max_length=64)       # the agent's push key, shown to the team
    status = peewee.CharField(max_length=16, default="pending")
    status_changed_at = UtcDateTimeField(null=True)
    last_report_at = UtcDateTimeField(null=True)
    push_interval_seconds = peewee.IntegerField(null=True)       # as the agent last said
    # when silence takes it down; null while pending, down or disabled, so the sweep's index
    # range holds only the servers it may have to act on
    deadline_at = UtcDateTimeField(null=True, index=True)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class ServerMetric(BaseModel):
    """One reading of one type. The key (server, type, at) serves the metrics query and makes a
    batch the agent sends again (its answer was lost) store nothing twice."""
    server = peewee.ForeignKeyField(Server, on_delete="CASCADE", index=False)
    type = peewee.CharField(max_length=32)
    at = UtcDateTimeField()
    data = JSONField()          # the reading's values, e.g. {"percent": 12.5}

    class Meta:
        primary_key = peewee.CompositeKey("server", "type", "at")
