"""Heartbeat monitors (endpoints 74-81): what each request may carry, and the answers."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

import pydantic
from pydantic import Field, StringConstraints

from api.schemas.base import Body, Query, Title
from api.schemas.monitors import DateRange, MonitorIds
from api.schemas.servers import Timezone
from models.clock import isoformat

Method = Literal["GET", "POST", "HEAD"]


class HeartbeatFields(Body):
    name: Title | None = None
    service_id: uuid.UUID | None = None
    methods: Annotated[list[Method], Field(min_length=1, max_length=3,
                       description="The HTTP methods the gateway accepts for it")] | None = None
    interval: Annotated[int, Field(ge=10, le=31 * 86_400,
                        description="Seconds between signals")] | None = None
    grace: Annotated[int, Field(ge=0, le=7 * 86_400,
                     description="Seconds a late signal is tolerated")] | None = None
    schedule: Annotated[str, StringConstraints(strip_whitespace=True, min_length=9,
                        max_length=120)] | None = Field(
        None, description="A cron expression; replaces interval")
    timezone: Timezone | None = Field(None, description="IANA time zone of the schedule")
    max_run_seconds: Annotated[int, Field(ge=1, le=7 * 86_400,
                               description="A run not completed in time is a failure")] | None = None

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class HeartbeatCreate(HeartbeatFields):
    name: Title
    service_id: uuid.UUID


class HeartbeatUpdate(HeartbeatFields):
    pass


class HeartbeatIds(MonitorIds):
    pass


class StatisticQuery(DateRange):
    interval: Literal["1h", "3h", "12h", "1d", "3d", "7d", "30d"] = "1d"


class EventsQuery(Query):
    limit: Annotated[int, Field(ge=1, le=1000)] = 50
    last_received_at: dt.datetime | None = Field(
        None, description="The received_at of the last event of the page before")

    @pydantic.field_validator("last_received_at")
    @classmethod
    def _aware(cls, value):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def heartbeat_out(heartbeat, *, gateway_url: str) -> dict:
    return {
        "id": str(heartbeat.id), "service_id": str(heartbeat.service_id), "name": heartbeat.name,
        "methods": heartbeat.methods, "interval": heartbeat.interval_seconds,
        "grace": heartbeat.grace_seconds, "schedule": heartbeat.schedule,
        "timezone": heartbeat.timezone, "max_run_seconds": heartbeat.max_run_seconds,
        "status": heartbeat.status, "status_changed_at": isoformat(heartbeat.status_changed_at),
        "last_signal_at": isoformat(heartbeat.last_signal_at),
        "last_result": heartbeat.last_result,
        "running_since": isoformat(heartbeat.run_started_at),
        "expected_by": isoformat(heartbeat.deadline_at),
        "ping_url": f"{gateway_url}/v1/heartbeat/{heartbeat.id}",
        "created_at": isoformat(heartbeat.created_at), "updated_at": isoformat(heartbeat.updated_at),
    }
