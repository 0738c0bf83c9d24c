"""The validation machinery every endpoint shares (pydantic v2).

A resource declares its body and query once, as class attributes named after the method
(`POST = SignUp`, `GET_QUERY = Page`); `api.middleware.Validation` checks the request against
them before the responder runs, and `api.openapi` documents the same declarations.

Bodies are validated strictly from the raw JSON (a number is not a string, `"1"` is not a
number); queries are validated leniently, since every query value arrives as text.
"""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import pydantic
from pydantic import ConfigDict, EmailStr, Field, StringConstraints


def _no_nul(value: Any) -> Any:
    """Postgres text holds neither NUL nor a lone surrogate (JSON can carry one, `"\ud800"`);
    refuse them at the edge, anywhere."""
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("must not contain lone surrogates (invalid UTF-16)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _no_nul(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _no_nul(item)
    return value


def instant_between(first_year: int, last_year: int):
    """A time in the years given (a year at the edge of the calendar cannot be moved to UTC
    or computed on), answered in UTC; a time without a zone is UTC, as every time of this API."""
    def check(value: dt.datetime) -> dt.datetime:
        if not first_year <= value.year <= last_year:
            raise ValueError(f"must fall in the years {first_year} to {last_year}")
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        try:
            return value.astimezone(dt.timezone.utc)
        except (OverflowError, ValueError):
            raise ValueError("is out of range") from None
    return Annotated[dt.datetime, pydantic.AfterValidator(check)]


class Body(pydantic.BaseModel):
    """Base of every request body: strict types, unknown fields ignored, no NaN."""
    model_config = ConfigDict(strict=True, extra="ignore", allow_inf_nan=False,
                              str_strip_whitespace=False, frozen=True)

    @pydantic.field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value):
        return _no_nul(value)


class Query(pydantic.BaseModel):
    """Base of every query-string declaration: values are text, converted leniently."""
    model_config = ConfigDict(strict=False, extra="ignore", allow_inf_nan=False, frozen=True)

    @pydantic.field_validator("*", mode="after")
    @classmethod
    def _refuse_nul(cls, value):
        return _no_nul(value)


class Invalid(Exception):
    """The request did not match its declaration; `fields` maps each bad field to why."""

    def __init__(self, fields: dict[str, str], malformed: bool = False, message: str = ""):
        super().__init__(message)
        self.fields = fields
        self.malformed = malformed
        self.message = message


_MALFORMED = {"json_invalid", "json_type", "model_type", "model_attributes_type", "dict_type"}


def parse_body(model: type[Body], raw: bytes) -> Body:
    try:
        return model.model_validate_json(raw or b"{}")
    except pydantic.ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False)
        top = [e for e in errors if not e["loc"] and e["type"] in _MALFORMED]
        if top:
            message = ("The request body is not valid JSON: " + top[0]["msg"].removeprefix(
                "Invalid JSON: ") if top[0]["type"] == "json_invalid"
                else "The request body must be a JSON object.")
            raise Invalid({}, malformed=True, message=message) from None
        raise Invalid(_fields(errors)) from None


def parse_query(model: type[Query], params: dict) -> Query:
    try:
        return model.model_validate(params)
    except pydantic.ValidationError as exc:
        raise Invalid(_fields(exc.errors(include_url=False, include_context=False))) from None


def _fields(errors) -> dict[str, str]:
    fields: dict[str, str] = {}
    for error in errors:
        # a dict's bad key is located at "<field>.<key>.[key]": the field and key name it
        name = ".".join(str(part) for part in error["loc"] if part != "[key]") or "body"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required"
        fields.setdefault(name, message)
    return fields


class Page(Query):
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    limit: Annotated[int, Field(ge=1, le=200)] = 50


def page_of(items: list, query: Page | None, shape) -> dict:
    """The list answer of DESIGN.md over `items` (already in order), shaped one by one."""
    page, limit = (query.page, query.limit) if query is not None else (1, 50)
    start = (page - 1) * limit
    return {"data": [shape(item) for item in items[start:start + limit]], "page": page,
            "limit": limit, "total": len(items)}


def csv_list(value):
    """A query list given as `a,b`, as `x=a&x=b`, or both."""
    if value is None:
        return []
    values = value if isinstance(value, list) else [value]
    return [part.strip() for item in values for part in str(item).split(",") if part.strip()]


# -- field types shared by many schemas ----------------------------------------------------

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Email = Annotated[EmailStr, Field(max_length=254)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{6}$"),
                 Field(description="The 6-digit code that was mailed")]
AnyPassword = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Priority = Annotated[int, Field(ge=1, le=10_000, description="The channel's place in the order")]
Role = Literal["owner", "manager", "user"]


def _password_policy(value: str) -> str:
    if len(value) < 8 or not any(c.isalpha() for c in value) or not any(c.isdigit() for c in value):
        raise ValueError("must be at least 8 characters long and contain at least one letter "
                         "and one digit")
    if value.strip() != value:
        raise ValueError("must not start or end with white space")
    return value


NewPassword = Annotated[
    str, StringConstraints(min_length=8, max_length=128), pydantic.AfterValidator(_password_policy),
    Field(description="8 to 128 characters, with at least one letter and one digit")]
