"""Calendar feeds: a secret address per schedule or person that calendar apps subscribe to
without signing in, answering the shifts as iCalendar (RFC 5545).

Generic over what a feed shows: each kind registers `shifts_of(subject_id, since, until) ->
[(summary, engine.Shift)]` (and optionally `name_of(subject_id)`, the calendar's name); the
team schedules register `team` and `person`, the OCS schedules `ocs`. A subject the look-up
no longer finds raises `NotFound`, and so does a feed of a kind nobody registered.

A feed's token is HMAC(secret key, the feed's random nonce), and only its SHA-256 is stored
for the look-up, so a copy of the database names no feed address; the token is derived again
to answer the address once more. Replacing the token draws a new nonce: the old address is
then a 404. Changing the secret key changes every address (the old ones stop working when
their address is next asked for).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from typing import Callable

import icalendar
import peewee

from models.db import UtcDateTimeField, UUIDModel
from models.errors import NotFound
from models.organisations import Organisation

PAST = dt.timedelta(days=7)      # a feed shows shifts from a week ago ...
AHEAD = dt.timedelta(days=90)    # ... to 90 days on
PRODID = "-//Pinghome//On-call schedules//EN"

# kind -> (shifts_of(subject_id, since, until) -> [(summary, Shift)], name_of(subject_id) -> str)
_kinds: dict[str, tuple[Callable, Callable | None]] = {}


class CalendarFeed(UUIDModel):
    organisation = peewee.ForeignKeyField(Organisation, on_delete="CASCADE")
    kind = peewee.CharField(max_length=32)
    subject = peewee.CharField(max_length=64)        # the subject's id as text (UUID or integer)
    nonce = peewee.CharField(max_length=64)
    token_hash = peewee.CharField(max_length=64, unique=True)
    created_at = UtcDateTimeField()

    class Meta:
        indexes = ((("kind", "subject"), True),)


def register(kind: str, shifts_of: Callable, name_of: Callable | None = None) -> None:
    _kinds[kind] = (shifts_of, name_of)


def token_for(organisation_id, kind: str, subject, *, settings, now) -> str:
    """The token of the feed of (`kind`, `subject`), created at the first request. Two first
    requests at once make one feed (insert-or-ignore on the pair); safe to repeat."""
    subject = str(subject)
    feed = _feed(kind, subject)
    if feed is None:
        nonce = secrets.token_urlsafe(24)
        (CalendarFeed.insert(organisation=organisation_id, kind=kind, subject=subject,
                             nonce=nonce, token_hash=_hash(_token(settings, nonce)),
                             created_at=now)
         .on_conflict_ignore().execute())
        feed = _feed(kind, subject)
    token = _token(settings, feed.nonce)
    if _hash(token) != feed.token_hash:        # the secret key changed since
        CalendarFeed.update(token_hash=_hash(token)).where(CalendarFeed.id == feed.id).execute()
    return token


def replace_token(organisation_id, kind: str, subject, *, settings, now) -> str:
    """A new token for the feed (created if missing); the previous address stops working."""
    subject = str(subject)
    nonce = secrets.token_urlsafe(24)
    changed = (CalendarFeed.update(nonce=nonce, token_hash=_hash(_token(settings, nonce)))
               .where(CalendarFeed.kind == kind, CalendarFeed.subject == subject).execute())
    if not changed:
        return token_for(organisation_id, kind, subject, settings=settings, now=now)
    return _token(settings, nonce)


def calendar(token: str, *, now) -> bytes:
    """The feed's iCalendar text: one VEVENT per shift from `PAST` ago to `AHEAD` on, with
    DTSTART/DTEND in UTC and a UID that stays the same for the shift while the window slides
    (derived from the feed, the summary, the contact and the start; a shift cut by the
    window's start, over a week old, gets a new one). `NotFound` for an unknown token."""
    feed = CalendarFeed.get_or_none(CalendarFeed.token_hash == _hash(token))
    if feed is None or feed.kind not in _kinds:
        raise NotFound("No such calendar feed.")
    shifts_of, name_of = _kinds[feed.kind]
    shifts = shifts_of(feed.subject, now - PAST, now + AHEAD)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name_of(feed.subject) if name_of else "Pinghome on call")
    for summary, shift in shifts:
        event = icalendar.Event()
        event.add("uid", _uid(feed, summary, shift))
        event.add("dtstamp", now.astimezone(dt.timezone.utc).replace(microsecond=0))
        event.add("dtstart", shift.start_at.astimezone(dt.timezone.utc))
        event.add("dtend", shift.end_at.astimezone(dt.timezone.utc))
        event.add("summary", summary)
        cal.add_component(event)
    return cal.to_ical()


def _feed(kind: str, subject: str) -> CalendarFeed | None:
    return CalendarFeed.get_or_none(CalendarFeed.kind == kind, CalendarFeed.subject == subject)


def _token(settings, nonce: str) -> str:
    digest = hmac.new(settings.secret_key.encode(), f"calendar-feed:{nonce}".encode(),
                      hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _uid(feed: CalendarFeed, summary: str, shift) -> str:
    key = f"{feed.kind}|{feed.subject}|{summary}|{shift.contact}|{shift.start_at.isoformat()}"
    return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}@pinghome"
