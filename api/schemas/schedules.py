"""Team on-call schedules (endpoints 98-101) and calendar feeds: what each request may carry,
and the answers. Whether the member belongs to the team needs the database, so it is
`models.oncall.team_schedules` that checks it."""
from __future__ import annotations

import uuid
from typing import Annotated

import pydantic
from pydantic import Field, StringConstraints

from api.schemas.base import Body, Query, instant_between
from api.schemas.servers import Timezone
from models.clock import isoformat


InYears = instant_between(1970, 9000)


def _each_once(values: list[int]) -> list[int]:
    return sorted(set(values))


def _week(value: int) -> int:
    if value == 0:
        raise ValueError("must be 1-5 or -1 (the last seven days of the month)")
    return value


def _plus_sign(value):
    """A `+01:00` offset in a query string that was not percent-encoded arrives as a space."""
    if isinstance(value, str) and "T" in value and value.count(" ") == 1:
        value = value.replace(" ", "+")
    return value


Instant = Annotated[InYears, Field(
    description="RFC 3339, e.g. 2024-01-01T00:00:00Z (no zone: UTC)")]
Time = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"),
                 Field(description="HH:MM:SS wall clock in the entry's time zone")]
Months = Annotated[list[Annotated[int, Field(ge=1, le=12)]], Field(min_length=1, max_length=50),
                   pydantic.AfterValidator(_each_once),
                   Field(description="1-12; absent or null: every month")]
Weeks = Annotated[list[Annotated[int, Field(ge=-1, le=5), pydantic.AfterValidator(_week)]],
                  Field(min_length=1, max_length=50),
                  pydantic.AfterValidator(_each_once),
                  Field(description="1-5 (days 1-7 are week 1 ...), -1 the last seven days of "
                                    "the month; absent or null: every week")]
WeekDays = Annotated[list[Annotated[int, Field(ge=0, le=6)]], Field(min_length=1, max_length=50),
                     pydantic.AfterValidator(_each_once),
                     Field(description="0-6, 0 = Sunday; absent or null: every day")]


class EntryFields(Body):
    team_member_id: uuid.UUID = Field(description="The member's customer id")
    start_date: Instant
    end_date: Instant
    months_of_year: Months | None = None
    weeks_of_month: Weeks | None = None
    week_days: WeekDays | None = None
    start_time: Time
    end_time: Time = Field(description="HH:MM:SS; at or before start_time the shift runs past "
                                       "midnight; 23:59:59 means midnight")
    timezone: Timezone = "UTC"

    @pydantic.field_validator("end_date")
    @classmethod
    def _after_start(cls, value, info):
        start = info.data.get("start_date")
        if start is not None and value <= start:
            raise ValueError("must be after start_date")
        return value

    def fields(self) -> dict:
        """The entry's fields as the domain operations take them."""
        return self.model_dump(exclude={"created_at"})


class EntryCreate(EntryFields):
    pass


class EntryUpdate(EntryFields):
    team_member_id: uuid.UUID = Field(description="With created_at, names the entry")
    created_at: Instant = Field(description="The entry's created_at, as answered")
    new_team_member_id: uuid.UUID | None = Field(
        None, description="Moves the entry to this member (reassignment)")


class EntryKey(Query):
    team_member_id: uuid.UUID
    created_at: Annotated[InYears, pydantic.BeforeValidator(_plus_sign)] = Field(
        description="The entry's created_at, as answered")


def entry_out(entry) -> dict:
    return {"id": str(entry.id), "team_id": str(entry.team_id),
            "team_member_id": str(entry.customer_id),
            "created_at": isoformat(entry.created_at),
            "start_date": isoformat(entry.start_date), "end_date": isoformat(entry.end_date),
            "months_of_year": entry.months_of_year, "weeks_of_month": entry.weeks_of_month,
            "week_days": entry.week_days, "start_time": entry.start_time,
            "end_time": entry.end_time, "timezone": entry.timezone,
            "updated_at": isoformat(entry.updated_at)}


def scheduled_out(item) -> dict:
    entry, shifts = item
    return {**entry_out(entry), "shifts": [
        {"start_at": isoformat(shift.start_at), "end_at": isoformat(shift.end_at)}
        for shift in shifts]}


def feed_out(token: str, *, public_url: str) -> dict:
    return {"url": f"{public_url}/v1/calendar/{token}.ics"}
