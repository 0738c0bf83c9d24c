"""OCS layers as they come (posted, or stored as they came) -> the engine's objects.

A layer is `{start, rotation, restrictions, contacts, index, tz}`:

- `start`: an ISO 8601 instant (a `Z` or an offset; without one it is wall-clock time in `tz`),
  from which the contacts take turns; years 2000 to 2200;
- `rotation`: `{"type": "daily" | "weekly"}` or `{"type": "custom", "seconds": N}` (N from an
  hour, 3600, to a year), as an object or as a JSON string of one (the seed sends
  `"{\\"type\\":\\"daily\\"}"`);
- `restrictions`: `null` (or the string `"null"`, as the seed sends it) or
  `{"type": "daily" | "weekly", "ranges": [{"start_time_of_day": "HH:MM[:SS]",
  "duration_seconds": N, "start_day_of_week": 1-7 (weekly ranges; 1 = Monday)}]}`, as an object
  or a JSON string; a daily range lasts at most a day, a weekly one at most a week;
- `contacts`: 1 to 100 contact ids of the organisation (`GET /api/contacts/`), taking turns in
  this order (an id may come back: `[1, 2, 1, 3]`);
- `index`: an integer (default: the layer's place in the list); on overlap the higher index
  wins, so two layers of a tier may not share one;
- `tz`: an IANA zone (default `UTC`), in which rotations and restrictions turn by wall clock.

A tier has at most 10 layers and a schedule at most 20 tiers (numbers 1-20), so what one
request computes stays bounded. `parse_layers` refuses anything else with `Invalid`, naming
each bad field as `layers.0.rotation` (never a 500). What is stored is each layer as it came
(its six keys); `tier_layers` reads it back through the same parser.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
import zoneinfo

from models.errors import Invalid
from models.oncall import engine
from models.oncall.contacts import known_contacts
from models.oncall.tables import Contact, OnDemandShift

log = logging.getLogger(__name__)

KEYS = ("start", "rotation", "restrictions", "contacts", "index", "tz")
MAX_LAYERS = 10              # per tier, and
MAX_TIERS = 20               # per schedule: what one request computes stays bounded
MAX_CONTACTS = 100
MAX_RANGES = 50
MIN_CUSTOM_SECONDS = 3600    # an hour: a year of minute-long turns takes the engine seconds
MAX_CUSTOM_SECONDS = 366 * 24 * 3600
MAX_INDEX = 1_000_000
MAX_ID = 2**31 - 1              # ids are 32-bit integer columns on Postgres
MAX_JSON_TEXT = 10_000          # characters of a rotation or restrictions given as a string
FIRST_YEAR, LAST_YEAR = 2000, 2200
DAY_SECONDS, WEEK_SECONDS = 24 * 3600, 7 * 24 * 3600
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")


def parse_layers(raw: list, *, organisation_id, field: str = "layers") -> list[engine.Layer]:
    """The layers as the engine takes them, in the order given; `Invalid` naming every bad
    field (`layers.0.rotation`, `layers.1.contacts.2` ...). Contacts must be the
    organisation's."""
    layers, problems = _parse(raw, field)
    named = [(f"{field}.{position}.contacts.{n}", contact)
             for position, item in enumerate(raw if isinstance(raw, list) else [])
             if isinstance(item, dict) and isinstance(item.get("contacts"), list)
             for n, contact in enumerate(item["contacts"][:MAX_CONTACTS]) if is_id(contact)]
    known = known_contacts({contact for _, contact in named}, organisation_id) if named else set()
    problems.update({where: "no such contact here" for where, contact in named
                     if contact not in known})
    if problems:
        raise Invalid("Some layers are invalid.", fields=problems)
    return layers


def stored_form(raw: list) -> list[dict]:
    """What a tier keeps of layers that `parse_layers` accepted: each layer's own keys, their
    values as they came."""
    return [{key: item[key] for key in KEYS if key in item} for item in raw]


def tier_layers(tier) -> list[engine.Layer]:
    """A stored tier's layers for the engine. A contact no longer in the organisation drops
    out of the rotation (the others take its turns); a layer left with nobody, or one that no
    longer parses, supplies nothing."""
    layers = []
    for position, item in enumerate(tier.layers or []):
        found, problems = _parse([item], "layers", positions=[position])
        if problems or not found:
            log.warning("tier %s: layer %s left out: %s", tier.id, position, problems)
            continue
        layers.append(found[0])
    organisation_id = tier.schedule.organisation_id
    known = known_contacts({c for layer in layers for c in layer.contacts}, organisation_id)
    kept = []
    for layer in layers:
        contacts = tuple(c for c in layer.contacts if c in known)
        if contacts:
            kept.append(engine.Layer(layer.start_at, layer.rotation, contacts, layer.index,
                                     layer.zone, layer.restrictions))
    return kept


def on_demand_of(tier) -> list[engine.OnDemand]:
    """The tier's stored on-demand shifts for the engine (`contact` the contact id)."""
    rows = OnDemandShift.select().where(OnDemandShift.tier == tier.id).order_by(
        OnDemandShift.start_at, OnDemandShift.id)
    return [engine.OnDemand(row.id, row.contact_id, row.start_at, row.end_at) for row in rows]


def customer_of_contact(contact_id) -> uuid.UUID | None:
    """The customer a contact names (None: no such contact)."""
    found = Contact.select(Contact.customer).where(Contact.id == contact_id).tuples().first()
    return found[0] if found else None


# -- parsing ----------------------------------------------------------------------------------

def _parse(raw, field: str, positions=None) -> tuple[list[engine.Layer], dict]:
    if not isinstance(raw, list):
        return [], {field: "must be a list of layers"}
    if len(raw) > MAX_LAYERS:
        return [], {field: f"at most {MAX_LAYERS} layers"}
    layers, problems, indexes = [], {}, {}
    for n, item in enumerate(raw):
        position = positions[n] if positions else n
        where = f"{field}.{position}"
        if not isinstance(item, dict):
            problems[where] = "must be an object {start, rotation, restrictions, contacts, " \
                              "index, tz}"
            continue
        layer = _layer(item, where, position, problems)
        if layer is None:
            continue
        if layer.index in indexes:
            problems[f"{where}.index"] = f"layer {indexes[layer.index]} has this index already"
            continue
        indexes[layer.index] = position
        layers.append(layer)
    return layers, problems


def _layer(item: dict, where: str, position: int, problems: dict) -> engine.Layer | None:
    before = len(problems)
    zone = _zone(item.get("tz", "UTC"), f"{where}.tz", problems)
    start = _start(item.get("start"), zone, f"{where}.start", problems)
    rotation = _rotation(item.get("rotation"), f"{where}.rotation", problems)
    restrictions = _restrictions(item.get("restrictions"), f"{where}.restrictions", problems)
    contacts = _contacts(item.get("contacts"), f"{where}.contacts", problems)
    index = item.get("index", position)
    if not _is_int(index) or abs(index) > MAX_INDEX:
        problems[f"{where}.index"] = f"must be an integer from -{MAX_INDEX} to {MAX_INDEX}"
    if len(problems) > before:
        return None
    return engine.Layer(start_at=start, rotation=rotation, contacts=contacts, index=index,
                        zone=zone, restrictions=restrictions)


def _zone(value, where: str, problems: dict) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= 64:
        try:
            zoneinfo.ZoneInfo(value)
            return value
        except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
            pass
    problems[where] = "must be an IANA time zone such as Europe/Berlin or UTC"
    return None


def _start(value, zone: str | None, where: str, problems: dict) -> dt.datetime | None:
    message = "must be an ISO 8601 date and time such as 2024-11-05T13:00:00Z"
    if not isinstance(value, str) or len(value) > 64:
        problems[where] = "is required" if value is None else message
        return None
    try:
        start = dt.datetime.fromisoformat(value)
    except ValueError:
        problems[where] = message
        return None
    if not FIRST_YEAR <= start.year <= LAST_YEAR:
        problems[where] = f"must fall in the years {FIRST_YEAR} to {LAST_YEAR}"
        return None
    if start.tzinfo is None:
        if zone is None:
            return None           # the zone is refused already
        start = start.replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return start.astimezone(dt.timezone.utc)


def _decoded(value, where: str, problems: dict):
    """An object given as itself or as a JSON string of it; `problems` names a bad string."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_JSON_TEXT:
        problems[where] = f"at most {MAX_JSON_TEXT} characters"
        return _BAD
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        problems[where] = "is a string that is not valid JSON"
        return _BAD


_BAD = object()


def _rotation(value, where: str, problems: dict) -> engine.Rotation | None:
    value = _decoded(value, where, problems)
    if value is _BAD:
        return None
    if not isinstance(value, dict):
        problems[where] = ('is required: {"type": "daily"}, {"type": "weekly"} or '
                           '{"type": "custom", "seconds": N}' if value is None else
                           "must be an object (or a JSON string of one) with a type")
        return None
    kind = value.get("type")
    if kind not in engine.ROTATIONS:
        problems[f"{where}.type"] = f"must be one of {', '.join(engine.ROTATIONS)}"
        return None
    if kind != "custom":
        return engine.Rotation(kind)
    seconds = value.get("seconds")
    if not _is_int(seconds) or not MIN_CUSTOM_SECONDS <= seconds <= MAX_CUSTOM_SECONDS:
        problems[f"{where}.seconds"] = (f"a custom rotation needs seconds, an integer from "
                                        f"{MIN_CUSTOM_SECONDS} to {MAX_CUSTOM_SECONDS}")
        return None
    return engine.Rotation("custom", seconds)


def _restrictions(value, where: str, problems: dict) -> engine.Restrictions | None:
    value = _decoded(value, where, problems)
    if value is None or value is _BAD:
        return None
    if not isinstance(value, dict):
        problems[where] = "must be null or an object (or a JSON string of one) with type and " \
                          "ranges"
        return None
    kind = value.get("type")
    if kind not in engine.RESTRICTIONS:
        problems[f"{where}.type"] = f"must be one of {', '.join(engine.RESTRICTIONS)}"
        return None
    ranges = value.get("ranges")
    if not isinstance(ranges, list) or not 1 <= len(ranges) <= MAX_RANGES:
        problems[f"{where}.ranges"] = f"must be a list of 1 to {MAX_RANGES} ranges"
        return None
    parsed = [_range(item, kind, f"{where}.ranges.{n}", problems) for n, item in enumerate(ranges)]
    if any(item is None for item in parsed):
        return None
    return engine.Restrictions(kind, tuple(parsed))


def _range(item, kind: str, where: str, problems: dict) -> engine.Range | None:
    if not isinstance(item, dict):
        problems[where] = "must be an object {start_time_of_day, duration_seconds" + \
            (", start_day_of_week}" if kind == "weekly" else "}")
        return None
    before = len(problems)
    text = item.get("start_time_of_day")
    matched = _TIME.match(text) if isinstance(text, str) else None
    if matched is None:
        problems[f"{where}.start_time_of_day"] = "must be a time of day HH:MM:SS"
    longest = DAY_SECONDS if kind == "daily" else WEEK_SECONDS
    duration = item.get("duration_seconds")
    if not _is_int(duration) or not 1 <= duration <= longest:
        problems[f"{where}.duration_seconds"] = f"must be an integer from 1 to {longest}"
    day = item.get("start_day_of_week")
    if kind == "weekly" and (not _is_int(day) or not 1 <= day <= 7):
        problems[f"{where}.start_day_of_week"] = "must be 1 (Monday) to 7 (Sunday)"
    if len(problems) > before:
        return None
    hour, minute, second = (int(part or 0) for part in matched.groups())
    return engine.Range(dt.time(hour, minute, second), duration,
                        day if kind == "weekly" else None)


def _contacts(value, where: str, problems: dict) -> tuple[int, ...] | None:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_CONTACTS:
        problems[where] = f"must be a list of 1 to {MAX_CONTACTS} contact ids"
        return None
    bad = {f"{where}.{n}": "must be a contact id (a positive integer)"
           for n, contact in enumerate(value) if not is_id(contact)}
    problems.update(bad)
    return None if bad else tuple(value)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_id(value) -> bool:
    """Whether `value` can be an OCS id (a positive integer that fits the id columns)."""
    return _is_int(value) and 1 <= value <= MAX_ID
