"""The OCS API (endpoints 126-144, contacts): what each request may carry, and the answers.

Its envelopes are the seed's: lists `{"results": [...], "next_page": N | null}` (`page`,
`limit`), counts `{"count": N}`, deletes the bare body `1`. Ids are integers. Layers are checked
whole by `models.oncall.layers` (they need the organisation's contacts); here only that they
come as a list.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AliasChoices, BeforeValidator, Field, StringConstraints

from api.schemas.base import Body, Email, Query, Title, instant_between
from models.channels.values import normalise
from models.clock import isoformat as _isoformat
from models.clock import to_second
from models.errors import Invalid
from models.oncall.layers import FIRST_YEAR, LAST_YEAR, MAX_ID, MAX_LAYERS, MAX_TIERS
from models.oncall.timelines import STAT_FIELDS

OcsId = Annotated[int, Field(ge=1, le=MAX_ID)]
TierRef = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=21),
                    Field(description="a tier id, or {ocs_id}_{tier_number}")]


def isoformat(instant: dt.datetime | None) -> str | None:
    """The OCS API writes every time to the second (`2025-01-11T16:37:23Z`)."""
    return _isoformat(to_second(instant)) if instant is not None else None


Instant = instant_between(FIRST_YEAR, LAST_YEAR)     # nothing on call lies outside them


def _sure(value):
    """The seed types `sure` a string and sends `true`: both are taken."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


Sure = Annotated[bool, BeforeValidator(_sure)]
Layers = Annotated[list[Any], Field(max_length=MAX_LAYERS, description=(
    "[{start, rotation, restrictions, contacts, index, tz}]; rotation and restrictions as "
    "objects or JSON strings"))]


def _phone(value):
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        value = f"+{value}"                    # the seed sends it unquoted
    if isinstance(value, str):
        try:
            return normalise("sms", value)
        except Invalid:
            raise ValueError("must be a phone number in international form, such as "
                             "+994551234567") from None
    return value


Phone = Annotated[str, BeforeValidator(_phone), StringConstraints(max_length=32)]


class OcsPage(Query):
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def results_of(items: list, query: OcsPage | None, shape) -> dict:
    """The seed's list answer: the page's items and the next page's number (null: none)."""
    page, limit = (query.page, query.limit) if query is not None else (1, 50)
    start = (page - 1) * limit
    return {"results": [shape(item) for item in items[start:start + limit]],
            "next_page": page + 1 if len(items) > start + limit else None}


# -- schedules ----------------------------------------------------------------------------------

class ScheduleFields(Body):
    customer: uuid.UUID | None = Field(
        None, description="the customer (member) the schedule is for; default: you")
    name: Title | None = None
    default_email: Email | None = Field(None, description="told when nobody is on call")
    default_phone: Phone | None = Field(None, description="texted when nobody is on call")
    escalation_loops: Annotated[int, Field(ge=1, le=10)] | None = Field(
        None, description="rounds over all tiers before giving up (default 2)")

    @pydantic.field_validator("name", "escalation_loops")
    @classmethod
    def _not_null(cls, value):
        if value is None:                 # only a given null gets here
            raise ValueError("may not be null")
        return value

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class ScheduleCreate(ScheduleFields):
    name: Title


class ScheduleUpdate(ScheduleFields):
    pass


def person_out(customer) -> dict | None:
    if customer is None:
        return None
    return {"id": str(customer.id), "username": customer.email, "name": customer.name,
            "surname": customer.surname, "email": customer.email}


def schedule_out(schedule) -> dict:
    customer = schedule.customer
    return {"id": schedule.id, "customer": str(customer.id) if customer else None,
            "customer_name": f"{customer.name} {customer.surname}".strip() if customer else None,
            "name": schedule.name, "default_email": schedule.default_email,
            "default_phone": schedule.default_phone,
            "escalation_loops": schedule.escalation_loops}


def schedule_detail_out(view) -> dict:
    """140: the schedule, who made and last changed it, its tiers, and per tier (in number
    order) the compute_tier answer over the default window, each shift with its contact."""
    card = lambda contact: contact_out(view.contacts[contact]) \
        if contact in view.contacts else None  # noqa: E731
    return {**schedule_out(view.schedule),
            "created_at": isoformat(view.schedule.created_at),
            "updated_at": isoformat(view.schedule.updated_at),
            "user": person_out(view.schedule.created_by),
            "updated_by": person_out(view.schedule.updated_by),
            "tiers": [tier_out(tier) for tier in view.tiers],
            "schedules": [computed_out(computed, card) for computed in view.computed],
            "contacts": [contact_out(c) for c in view.contacts.values()]}


# -- contacts -----------------------------------------------------------------------------------

def contact_out(card) -> dict:
    return {"id": card.id, "customer": str(card.customer_id), "name": card.name,
            "surname": card.surname, "email": card.email, "phone": card.phone}


# -- tiers --------------------------------------------------------------------------------------

class TierQuery(OcsPage):
    ocs: OcsId | None = Field(None, description="only this schedule's tiers")


class TierCountQuery(Query):
    ocs: OcsId | None = None


class TierUpdate(Body):
    number: Annotated[int, Field(ge=1, le=MAX_TIERS)] | None = None
    ocs: OcsId | None = Field(None, description="move the tier to this schedule")
    layers: Layers | None = Field(None, description="replace the tier's layers")

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class OnDemandItem(Body):
    """An on-demand shift in a tier PATCH or compute_tier: `{start, end, contact}` or the
    compact form compute_tier answers, `{s, e, c, i}`."""
    start: Instant = Field(validation_alias=AliasChoices("start", "s"))
    end: Instant = Field(validation_alias=AliasChoices("end", "e"))
    contact: OcsId = Field(validation_alias=AliasChoices("contact", "c"))
    id: OcsId | None = Field(None, validation_alias=AliasChoices("id", "i"))

    def fields(self) -> dict:
        return {"start_at": self.start, "end_at": self.end, "contact": self.contact,
                "id": self.id}


class TierPatch(Body):
    on_demand: Annotated[list[OnDemandItem], Field(max_length=500)] | None = Field(
        None, description="when not empty: the tier's on-demand shifts (an item with an id "
                          "changes that shift, one without is new, the rest are deleted)")
    layers: Layers | None = Field(None, description="replace the tier's layers")
    dirty: bool | None = Field(None, description="accepted for the seed's clients; "
                                                 "changes nothing")

    def on_demand_fields(self) -> list[dict]:
        return [item.fields() for item in self.on_demand or []]


class WindowQuery(Query):
    since: Instant | None = Field(None, description="default: now")
    until: Instant | None = Field(None, description="default: 60 days after since")


def tier_out(tier) -> dict:
    return {"id": tier.id, "number": tier.number, "ocs": tier.schedule_id,
            "layers": tier.layers, "created_at": isoformat(tier.created_at),
            "updated_at": isoformat(tier.updated_at)}


def tier_list_out(tier) -> dict:
    return {**tier_out(tier), "ocs_name": tier.schedule.name}


def tier_now_out(found) -> dict:
    return {**tier_list_out(found.tier),
            "contacts": [contact_out(card) for card in found.contacts],
            "active": found.on_call is not None,
            "on_call_now": {"contact": found.on_call, "until": isoformat(found.until)}
            if found.on_call is not None else None,
            "next_contact": {"contact": found.next_contact, "from": isoformat(found.next_from)}
            if found.next_contact is not None else None}




def computed_out(computed, card=None) -> list:
    """compute_tier's answer `[final, layers, on_demand]`: final `{s, e, c, i}` (an on-demand
    piece `i: null` and `o` its id), per layer `{c, s, e, o}`, on-demand `{s, e, c, i}` (`i`
    its id). With `card`, every shift also carries `contact`, the contact's details."""
    def final(shift) -> dict:
        item = {"s": isoformat(shift.start_at), "e": isoformat(shift.end_at), "c": shift.contact,
                "i": shift.index}
        if shift.index is None:
            item["o"] = shift.override
        return _carded(item, card)

    def layer(shift) -> dict:
        return _carded({"c": shift.contact, "s": isoformat(shift.start_at),
                        "e": isoformat(shift.end_at), "o": shift.override}, card)

    def on_demand(shift) -> dict:
        return _carded({"s": isoformat(shift.start_at), "e": isoformat(shift.end_at),
                        "c": shift.contact, "i": shift.override}, card)

    return [[final(s) for s in computed.final],
            [[layer(s) for s in shifts] for shifts in computed.layers],
            [on_demand(s) for s in computed.on_demand]]


def _carded(item: dict, card) -> dict:
    return {**item, "contact": card(item["c"])} if card else item


# -- on-demand shifts -------------------------------------------------------------------------

class OnDemandQuery(OcsPage):
    tier_id: TierRef


class OnDemandCountQuery(Query):
    tier_id: TierRef | None = None


class OnDemandCreate(Body):
    start: Instant = Field(description="ISO 8601; without an offset it is UTC")
    end: Instant
    contact: OcsId = Field(description="a contact id (GET /api/contacts/)")
    tier: OcsId = Field(description="a tier id (GET /api/ocs-tier/?ocs=)")
    sure: Sure = Field(False, description="true: run over the tier's shifts for these times "
                                          "(on-demand ones are trimmed or split); false: 409 "
                                          "if anyone is on call then")


class OnDemandUpdate(Body):
    start: Instant | None = None
    end: Instant | None = None
    contact: OcsId | None = None
    tier: OcsId | None = None
    sure: Sure = False

    def fields(self) -> dict:
        return {"start_at": self.start, "end_at": self.end, "contact": self.contact,
                "tier": self.tier}


def shift_out(shift) -> dict:
    return {"id": shift.id, "tier": shift.tier_id, "start": isoformat(shift.start_at),
            "end": isoformat(shift.end_at), "contact": shift.contact_id}


# -- statistics ---------------------------------------------------------------------------------

Ordering = Literal[tuple(f"{sign}{name}" for name in STAT_FIELDS for sign in ("", "-"))]


class StatsQuery(OcsPage):
    timeframe: Annotated[int, Field(ge=1, le=366, description="days up to now")] = 7
    ordering: Ordering = Field("-shifts", description="a field, '-' first for descending")
    format: Literal["json"] = "json"


def stats_out(stats, query: StatsQuery) -> dict:
    answer = results_of(stats.rows, query, lambda row: {
        "contact": contact_out(row.contact), "shifts": row.shifts, "hours": row.hours,
        "night_hours": row.night_hours, "weekend_hours": row.weekend_hours})
    return {**answer, "count": len(stats.rows), "timeframe": query.timeframe,
            "since": isoformat(stats.since), "until": isoformat(stats.until),
            "tiers": [{"id": tier.id, "number": tier.number, "uncovered_hours": hours}
                      for tier, hours in stats.uncovered]}
