r"""Postgres COPY's text format: values between tabs, one row per line, `\N` for NULL, and a
backslash before the backslashes, tabs, newlines and carriage returns inside a value.

The gateway writes each heartbeat signal as such a line, so a flusher hands a batch of them to
COPY as they came (`db.copy_in`), with no work per value."""
from __future__ import annotations

import datetime as dt
import re

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_ESCAPED = re.compile(r"\\(.)")
_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def line(values) -> bytes:
    """One row: each value as text (None as NULL); no line end."""
    return "\t".join([field(value) for value in values]).encode()


def field(value) -> str:
    return NULL if value is None else str(value).translate(_ESCAPES)


def number(value: int | float | None) -> str:
    """A number as text (digits, a sign, a point: nothing to escape)."""
    return NULL if value is None else str(value)


def instant(value: dt.datetime | None) -> str:
    """An instant as a `timestamp` column holds it: naive UTC (digits: nothing to escape)."""
    if value is None:
        return NULL
    if value.tzinfo is not dt.timezone.utc:
        value = value.astimezone(dt.timezone.utc)
    return value.replace(tzinfo=None).isoformat(" ")


def values(row: bytes) -> list[str | None]:
    """The values of a row `line` wrote, as text."""
    return [None if part == NULL else
            _ESCAPED.sub(lambda m: _UNESCAPES.get(m.group(1), m.group(1)), part)
            if "\\" in part else part
            for part in row.decode().split("\t")]

