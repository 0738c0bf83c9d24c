"""What people hear of their shifts, through the outbox:

- a notice before a shift starts (`PINGHOME_SHIFT_NOTICE_MINUTES` ahead, default 15);
- a notice when an edit of a schedule changes their shifts in the next 14 days;
- a daily warning to the team (an OCS schedule: its owner) of the gaps in the next 7 days.

A person is told on their first personal channel, else at their sign-in address; a team on
its channels, else at its members' addresses. Every message is keyed (shift and person, edit
and person, roster and day), so a job run twice, or ticks whose windows overlap, send
nothing twice: at-least-once work, at-most-once messages.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging

from models import outbox
from models.accounts import Customer
from models.channels import deliverable_of, messages_to_team
from models.clock import isoformat
from models.oncall import engine, rosters

log = logging.getLogger(__name__)

KIND = "oncall"
CHANGES_AHEAD = dt.timedelta(days=14)
GAPS_AHEAD = dt.timedelta(days=7)
LOOK_BACK = dt.timedelta(minutes=5)    # a tick missed (a scheduler restart) is caught up


def notify_upcoming(*, minutes: int, now: dt.datetime) -> int:
    """Tells each person whose shift starts within `minutes` (or started in the last five,
    unnoticed); answers how many notices were queued (a repeat queues nothing new)."""
    since, soon = now - LOOK_BACK, now + dt.timedelta(minutes=minutes)
    messages = []
    for roster in rosters.all_rosters():
        # computed a day past `soon`, so that a shift's end is its own, not the window's
        for shift in roster.shifts(since, soon + dt.timedelta(days=1)):
            if since < shift.start_at <= soon:
                messages += _to_person(
                    shift.contact, key=f"shift:{roster.kind}:{roster.subject_id}:"
                                       f"{shift.contact}:{isoformat(shift.start_at)}",
                    subject=f"On call from {_hhmm(shift.start_at)} UTC: {roster.label}",
                    body=(f"Your on-call shift in {roster.label} starts at "
                          f"{isoformat(shift.start_at)} and ends at "
                          f"{isoformat(shift.end_at)}.\n"))
    return _queue_new(messages, now=now)


@contextlib.contextmanager
def changes_told(*watched: rosters.Roster, now: dt.datetime):
    """Around an edit of the `watched` rosters: afterwards, each person whose shifts in one of
    them over the next 14 days differ is told their new ones. Call it inside the edit's
    transaction."""
    until = now + CHANGES_AHEAD
    before = [_by_person(roster.shifts(now, until)) for roster in watched]
    yield
    messages = []
    for roster, was in zip(watched, before):
        now_is = _by_person(roster.shifts(now, until))
        for person in sorted(set(was) | set(now_is), key=str):
            if was.get(person, []) == now_is.get(person, []):
                continue
            listed = "".join(f"- {isoformat(start)} to {isoformat(end)}\n"
                             for start, end in now_is.get(person, [])) or "- none\n"
            messages += _to_person(
                person, key=f"shift-change:{roster.kind}:{roster.subject_id}:{person}:"
                            f"{now.isoformat()}",
                subject=f"Your on-call shifts changed: {roster.label}",
                body=f"Your shifts in {roster.label} over the next 14 days are now:\n{listed}")
    _queue_new(messages, now=now)


def warn_gaps(*, now: dt.datetime) -> int:
    """Warns each roster's team of the hours nobody covers in the next 7 days, once a day;
    a roster with no shift at all in that time (an OCS tier not set up yet) is left alone.
    Answers how many warnings were queued."""
    until = now + GAPS_AHEAD
    messages = []
    for roster in rosters.all_rosters():
        shifts = roster.shifts(now, until)
        holes = engine.gaps(shifts, now, until)
        if not shifts or not holes:
            continue
        listed = "".join(f"- {isoformat(start)} to {isoformat(end)}\n" for start, end in holes)
        key = f"gaps:{roster.kind}:{roster.subject_id}:{now.date().isoformat()}"
        subject = f"Nobody on call at times in the next 7 days: {roster.label}"
        body = f"Nobody is on call in {roster.label} at these times:\n{listed}"
        if roster.team_id is not None:
            messages += messages_to_team(roster.team_id, key=key, kind=KIND, subject=subject,
                                         body=body, payload=_payload(subject, body))
        elif roster.owner_id is not None:
            messages += _to_person(roster.owner_id, key=key, subject=subject, body=body)
    return _queue_new(messages, now=now)


def _queue_new(messages: list[outbox.Queued], *, now) -> int:
    """Queues the messages (insert-or-ignore on their keys); answers how many were new."""
    keys = [m.key for m in messages]
    known = {key for (key,) in outbox.Delivery.select(outbox.Delivery.key).where(
        outbox.Delivery.key.in_(keys)).tuples()} if keys else set()
    fresh = [m for m in messages if m.key not in known]
    outbox.queue_many(fresh, now=now)
    return len(fresh)


def _to_person(customer_id, *, key: str, subject: str, body: str) -> list[outbox.Queued]:
    channels = deliverable_of("customer", customer_id)
    if channels:
        return [outbox.Queued(key=key[:200], kind=KIND, subject=subject, body=body,
                              channel=channels[0], payload=_payload(subject, body))]
    customer = Customer.get_or_none(Customer.id == customer_id)
    if customer is None:
        return []
    return [outbox.Queued(key=key[:200], kind=KIND, subject=subject, body=body, type="email",
                          address=customer.email)]


def _payload(subject: str, body: str) -> dict:
    return {"type": "oncall.notice", "subject": subject, "text": body}


def _by_person(shifts) -> dict:
    found: dict = {}
    for shift in shifts:
        found.setdefault(shift.contact, []).append((shift.start_at, shift.end_at))
    return {person: sorted(spans) for person, spans in found.items()}


def _hhmm(at: dt.datetime) -> str:
    return at.strftime("%H:%M")
