"""Uptime monitors (endpoints 44-63): what each request may carry, and the answers' shapes.
Rules that tie fields together by type live in `models.monitors.spec`."""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Annotated, Any, Literal

import pydantic
from pydantic import Field, StringConstraints

from api.schemas.base import Body, Query, Title, csv_list
from models.clock import isoformat
from models.conditions import MAX_CONDITIONS
from models.monitors.spec import (HEADER_NAME, HEADER_VALUE, MAX_HEADER_VALUE, MAX_HEADERS,
                                  MAX_HOST_LENGTH, MAX_INTERVAL, MAX_TIMEOUT, MIN_INTERVAL)

MonitorType = Literal["http", "keyword", "ping", "port", "ssl", "tld"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
Seconds = Annotated[int, Field(ge=0, le=86_400)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Host = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                        max_length=MAX_HOST_LENGTH)]
Region = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Days = Annotated[int, Field(ge=1, le=365)]


def _port(value):
    """The spec's example sends port as a string, "" when unused."""
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
        if value.isdigit():
            return int(value)
    return value


Port = Annotated[Annotated[int, Field(ge=1, le=65535)] | None, pydantic.BeforeValidator(_port)]


def _headers(value):
    """The spec's example may send headers as a JSON string of the object; "" is none."""
    if isinstance(value, str):
        if value.strip() == "":
            return None
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("must be a JSON object of header names and values, or a JSON "
                             "string of one") from None
    return value


Headers = Annotated[
    Annotated[dict[Annotated[str, StringConstraints(pattern=HEADER_NAME)],
                   Annotated[str, StringConstraints(max_length=MAX_HEADER_VALUE,
                                                    pattern=HEADER_VALUE)]],
              Field(max_length=MAX_HEADERS)] | None,
    pydantic.BeforeValidator(_headers),
    Field(description="Header names and printable ASCII values, as an object or a JSON string "
                      "of one")]
Interval = Annotated[int, Field(
    ge=MIN_INTERVAL, le=MAX_INTERVAL,
    description=f"Seconds between checks: at least {MIN_INTERVAL}, and at least the plan's "
                "shortest interval (its min_interval_seconds limit, as "
                "GET /v1/plan/{plan}/{version}/limits answers)")]
Timeout = Annotated[int, Field(ge=1, le=MAX_TIMEOUT,
                               description="Seconds a check may take; at most the interval")]


class MonitorFields(Body):
    """Every field a monitor has; all optional here, the type decides what is required."""
    name: Title | None = None
    type: MonitorType | None = None
    url: Url | None = None
    host: Host | None = None
    port: Port = None
    method: Method | None = None
    headers: Headers = None
    body: Annotated[str, StringConstraints(max_length=65_536)] | None = None
    data: Annotated[str, StringConstraints(min_length=0, max_length=1000)] | None = None
    conditions: Annotated[list[dict[str, Any]], Field(max_length=MAX_CONDITIONS)] | None = None
    skip_ssl_error: bool | None = None
    not_follow_redirect: bool | None = None
    is_advanced: bool | None = None
    grace_period: Seconds | None = None
    recovery_period: Seconds | None = None
    maintenance_cron_expression: Annotated[str, StringConstraints(max_length=120)] | None = None
    maintenance_duration: Annotated[int, Field(ge=0, le=1440)] | None = None
    interval: Interval | None = None
    timeout: Timeout | None = None
    regions: Annotated[list[Region], Field(
        max_length=20, description="Of the installation's regions; the plan sets how many "
                                   "(its regions_per_monitor limit)")] | None = None
    service_id: uuid.UUID | None = None

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class MonitorCreate(MonitorFields):
    name: Title
    type: MonitorType
    service_id: uuid.UUID


class MonitorUpdate(MonitorFields):
    pass


class MonitorStatus(Body):
    enabled: bool


class MonitorIds(Query):
    id: Annotated[list[uuid.UUID], pydantic.BeforeValidator(csv_list), Field(min_length=1,
                                                                           max_length=500)]


class Reminder(Body):
    days_before: Annotated[list[Days], Field(min_length=1, max_length=10)]


class DateRange(Query):
    start_date: dt.datetime | None = None
    end_date: dt.datetime | None = None

    @pydantic.field_validator("start_date", "end_date")
    @classmethod
    def _aware(cls, value):
        """A time without a zone is UTC, as every time of this API."""
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


class ReportQuery(DateRange):
    interval: Literal["minute", "hour", "day", "week", "month"] | None = None
    limit: Annotated[int, Field(ge=1, le=5000)] | None = None


class HistoryQuery(DateRange):
    limit: Annotated[int, Field(ge=1, le=1000)] = 50


def monitor_out(monitor) -> dict:
    return {
        "id": str(monitor.id), "service_id": str(monitor.service_id), "name": monitor.name,
        "type": monitor.type, "url": monitor.url, "host": monitor.host, "port": monitor.port,
        "method": monitor.method, "headers": monitor.headers, "body": monitor.body,
        "data": monitor.data, "conditions": monitor.conditions or [],
        "skip_ssl_error": monitor.skip_ssl_error,
        "not_follow_redirect": monitor.not_follow_redirect, "is_advanced": monitor.is_advanced,
        "grace_period": monitor.grace_period, "recovery_period": monitor.recovery_period,
        "maintenance_cron_expression": monitor.maintenance_cron_expression,
        "maintenance_duration": monitor.maintenance_duration,
        "interval": monitor.interval_seconds, "timeout": monitor.timeout_seconds,
        "regions": monitor.regions, "enabled": monitor.enabled, "status": monitor.status,
        "status_changed_at": isoformat(monitor.status_changed_at),
        "created_at": isoformat(monitor.created_at), "updated_at": isoformat(monitor.updated_at),
    }


def region_out(item) -> dict:
    state = item["state"]
    return {"region": item["region"], "status": state.status if state else "unknown",
            "failing_since": isoformat(state.failing_since) if state else None,
            "changed_at": isoformat(state.changed_at) if state else None,
            "last_error": state.last_error if state else None}


def facts_out(monitor, kind: str, facts) -> dict:
    return {"monitor_id": str(monitor.id), "kind": kind,
            "checked_at": isoformat(facts.checked_at) if facts else None,
            "data": facts.data if facts else None}


def reminder_out(reminder) -> dict:
    return {"monitor_id": str(reminder.monitor_id), "kind": reminder.kind,
            "days_before": reminder.days_before, "created_at": isoformat(reminder.created_at),
            "updated_at": isoformat(reminder.updated_at)}
