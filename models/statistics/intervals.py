"""The buckets of a report: [start, end) cut at UTC minute, hour, day, week (from Monday) or
month (from the 1st) boundaries."""
from __future__ import annotations

import datetime as dt

from models.errors import Invalid

UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
INTERVALS = ("minute", "hour", "day", "week", "month")
MAX_BUCKETS = 5000
MAX_MINUTE_RANGE = dt.timedelta(days=2)
# the finest interval that a range of up to this length gets by default
_DEFAULTS = (("minute", dt.timedelta(hours=2)), ("hour", dt.timedelta(days=3)),
             ("day", dt.timedelta(days=90)), ("week", dt.timedelta(days=366)))
STEPS = {"minute": dt.timedelta(minutes=1), "hour": HOUR, "day": DAY,
          "week": dt.timedelta(weeks=1)}


def default_interval(start: dt.datetime, end: dt.datetime) -> str:
    """minute up to 2 hours, hour up to 3 days, day up to 90 days, week up to a year (366
    days, a leap year too), then month."""
    length = end - start
    for name, longest in _DEFAULTS:
        if length <= longest:
            return name
    return "month"


def edges(start: dt.datetime, end: dt.datetime, interval: str) -> list[dt.datetime]:
    """The bucket edges of [start, end): start, every `interval` boundary inside, end (so
    bucket i is [edges[i], edges[i + 1])). Raises Invalid, naming the field, for an unknown
    interval, an empty range, minutes over more than two days or more than 5000 buckets."""
    if interval not in INTERVALS:
        raise Invalid(f"interval must be one of {', '.join(INTERVALS)}.",
                      fields={"interval": "unknown interval"})
    if end <= start:
        raise Invalid("start_date must be before end_date.",
                      fields={"start_date": "not before end_date"})
    if interval == "minute" and end - start > MAX_MINUTE_RANGE:
        raise Invalid("Minute buckets cover at most 2 days; choose a longer interval or a "
                      "later start_date.", fields={"interval": "too fine for this range"})
    found = [start]
    edge = following(floor(start, interval), interval)
    while edge < end:
        if len(found) == MAX_BUCKETS:
            raise Invalid(f"The range holds more than {MAX_BUCKETS} {interval} buckets; "
                          "choose a later start_date or a longer interval.",
                          fields={"start_date": f"more than {MAX_BUCKETS} buckets"})
        found.append(edge)
        edge = following(edge, interval)
    found.append(end)
    return found


def floor(instant: dt.datetime, interval: str) -> dt.datetime:
    """The start of the UTC `interval` that holds `instant`."""
    instant = instant.astimezone(UTC)
    if interval == "minute":
        return instant.replace(second=0, microsecond=0)
    if interval == "hour":
        return instant.replace(minute=0, second=0, microsecond=0)
    day = instant.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "day":
        return day
    if interval == "week":
        return day - dt.timedelta(days=day.weekday())
    return day.replace(day=1)


def following(edge: dt.datetime, interval: str) -> dt.datetime:
    """The next boundary after the boundary `edge`."""
    if interval == "month":
        return edge.replace(year=edge.year + edge.month // 12, month=edge.month % 12 + 1)
    return edge + STEPS[interval]


def ceil_hour(instant: dt.datetime) -> dt.datetime:
    hour = floor(instant, "hour")
    return hour if hour == instant else hour + HOUR


def utc(instant: dt.datetime) -> dt.datetime:
    """An aware UTC instant (a naive one is taken as UTC, as the database stores them)."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)
