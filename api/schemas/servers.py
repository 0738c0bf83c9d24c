"""Server monitors (endpoints 68-73) and the agent's push to the gateway: what each request may
carry, and the answers' shapes."""
from __future__ import annotations

import datetime as dt
import functools
import uuid
import zoneinfo
from typing import Annotated, Literal

import pydantic
from pydantic import ConfigDict, Field, StringConstraints

from api.schemas.base import Body, Query, Title, csv_list
from api.schemas.monitors import DateRange
from models.clock import isoformat
from models.servers.metrics import TYPES

ChartType = Literal["line", "bar", "area"]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


@functools.cache
def _zones() -> frozenset:
    return frozenset(zoneinfo.available_timezones())


def _known_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("must be an IANA time zone such as Europe/Berlin")
    return value


Timezone = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64),
                     pydantic.AfterValidator(_known_zone),
                     Field(description="An IANA time zone, e.g. Europe/Berlin")]


class ServerFields(Body):
    service_id: uuid.UUID | None = None
    name: Title | None = None
    description: Description | None = None
    timezone: Timezone | None = None
    chart_type_default: ChartType | None = None

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class ServerCreate(ServerFields):
    service_id: uuid.UUID
    name: Title


class ServerUpdate(ServerFields):
    enabled: bool | None = None


class ServerIds(Query):
    id: Annotated[list[uuid.UUID], pydantic.BeforeValidator(csv_list), Field(min_length=1,
                                                                           max_length=500)]


class MetricsQuery(DateRange):
    type: Literal[TYPES] | None = Field(None, description="One type; all seven when omitted")
    interval: Literal["on-demand", "minute", "hour", "day"] = "on-demand"
    limit: Annotated[int, Field(ge=1, le=5000)] = 100


# -- the agent's push -----------------------------------------------------------------------

Percent = Annotated[float, Field(ge=0, le=100)]
Amount = Annotated[float, Field(ge=0, le=1e18)]     # bytes, bytes per second, load


class Values(pydantic.BaseModel):
    """A reading's values: exactly the names its type has (an unknown one is refused)."""
    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


class CpuValues(Values):
    percent: Percent


class UsageValues(Values):
    """Memory, swap and disk usage (disk: all local file systems together)."""
    percent: Percent
    used: Amount
    total: Amount


class DiskIoValues(Values):
    read_bytes_per_s: Amount
    write_bytes_per_s: Amount


class LoadValues(Values):
    load1: Amount
    load5: Amount
    load15: Amount


class NetworkValues(Values):
    sent_bytes_per_s: Amount
    recv_bytes_per_s: Amount


class MetricSet(Values):
    """The readings taken at one instant, by type; at least one."""
    cpu_total_usage: CpuValues | None = Field(None, alias="cpu-total-usage")
    memory_usage: UsageValues | None = Field(None, alias="memory-usage")
    swap_usage: UsageValues | None = Field(None, alias="swap-usage")
    disk_usage_unified: UsageValues | None = Field(None, alias="disk-usage-unified")
    disk_io_unified: DiskIoValues | None = Field(None, alias="disk-io-unified")
    system_load_unified: LoadValues | None = Field(None, alias="system-load-unified")
    network_usage_unified: NetworkValues | None = Field(None, alias="network-usage-unified")

    @pydantic.model_validator(mode="after")
    def _not_empty(self):
        if not self.model_dump(exclude_none=True):
            raise ValueError("must hold at least one reading")
        return self


class Sample(Body):
    at: pydantic.AwareDatetime
    metrics: MetricSet


class Report(Body):
    interval: Annotated[int, Field(ge=1, le=3600,
                                   description="Seconds between the agent's pushes")]
    samples: Annotated[list[Sample], Field(min_length=1, max_length=1000)]

    def readings(self) -> list[tuple[str, dt.datetime, dict]]:
        """[(type, at, values)] of every sample, in the order sent."""
        return [(kind, sample.at, values) for sample in self.samples
                for kind, values in sample.metrics.model_dump(by_alias=True,
                                                              exclude_none=True).items()]


# -- answers ----------------------------------------------------------------------------------

def server_out(server, settings=None) -> dict:
    """A server monitor; with `settings`, also its push key and the command that installs and
    starts its agent (the single-server answers)."""
    shaped = {
        "id": str(server.id), "service_id": str(server.service_id), "name": server.name,
        "description": server.description, "timezone": server.timezone,
        "chart_type_default": server.chart_type_default, "enabled": server.enabled,
        "status": server.status, "status_changed_at": isoformat(server.status_changed_at),
        "last_report_at": isoformat(server.last_report_at),
        "push_interval_seconds": server.push_interval_seconds,
        "created_at": isoformat(server.created_at), "updated_at": isoformat(server.updated_at),
    }
    if settings is not None:
        shaped["token"] = server.token
        shaped["agent_command"] = (f"pip install pinghome && pinghome-agent --gateway "
                                   f"{settings.gateway_url} --server {server.id} "
                                   f"--token={server.token}")
    return shaped


def metrics_out(server, query, found: dict) -> dict:
    return {"server_id": str(server.id), "interval": query.interval,
            "data": {kind: [{**point, "at": isoformat(point["at"])} for point in points]
                     for kind, points in found.items()}}
