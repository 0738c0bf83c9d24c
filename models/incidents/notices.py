"""Carrying out an incident's steps (`announcements`): who is told, over which channel, and what
follows.

- A `team` assignee: every verified, enabled team channel at once.
- A `customer`: their personal channels in priority order, the next one after the escalation
  delay (the incident's, the ruleset's, else `PINGHOME_ESCALATION_DELAY_MINUTES`) while the
  incident stays unacknowledged; with no channel at all, their sign-in address.
- A reminder every `renotify_minutes` while the incident stays open, to every team channel
  and first personal channel told before.
- On resolve, a notice to every channel and address told of it.

A step is carried out in one transaction: it is claimed, its messages are queued in the outbox
(each keyed by incident, step and channel, so a step run again sends nothing twice) and what
follows is planned; a killed worker leaves the step pending, for its job's redelivery or the
scheduler. Messages to one channel within a few seconds of each other go out as one
(`outbox`, grouping by channel), so an outage that opens many incidents sends few messages.
"""
from __future__ import annotations

import datetime as dt
import uuid

from models import outbox
from models.accounts import Customer
from models.channels import NotificationChannel, deliverable_of, shown
from models.db import serialized
from models.incidents import announcements, lifecycle, messages
from models.incidents.tables import Incident, IncidentStep
from models.organisations import Team

KIND = "incident"      # the outbox kind of incident notices (grouped by channel)


def run_step(step_id, *, settings, now) -> bool:
    """Carries out one step; answers False for a step done before (or gone). Safe to repeat."""
    with serialized():
        step = IncidentStep.get_or_none(IncidentStep.id == step_id)
        if step is None or step.done_at is not None:
            return False
        claimed = (IncidentStep.update(done_at=now)
                   .where(IncidentStep.id == step.id, IncidentStep.done_at.is_null()).execute())
        if not claimed:
            return False
        incident = Incident.get_by_id(step.incident_id)
        reason = step.data["reason"]
        if reason == "resolved":
            _tell_everyone_told(incident, step, settings=settings, now=now)
        elif reason == "reminder":
            if incident.is_open:
                _remind(incident, step, settings=settings, now=now)
        elif incident.status != "triggered":
            lifecycle.record(incident, "escalation_stopped",
                             f"{_who(step.data['assignee'])} not told: the incident is "
                             f"{incident.status}", at=now, key=f"stopped:{step.key}")
        else:
            _tell(incident, step, step.data["assignee"], step.data.get("position", 1),
                  settings=settings, now=now)
    return True


def _tell(incident, step, assignee: dict, position: int, *, settings, now) -> None:
    if assignee["type"] == "team":
        for channel in deliverable_of("team", assignee["id"]):
            _send(incident, step, channel, reason=step.data["reason"], settings=settings, now=now)
        return
    customer = Customer.get_or_none(Customer.id == assignee["id"])
    if customer is None:
        return
    found = deliverable_of("customer", customer.id)
    if not found:
        _send_to_address(incident, step, customer, settings=settings, now=now)
        return
    if position > len(found):
        return
    _send(incident, step, found[position - 1], reason=step.data["reason"], settings=settings,
          now=now)
    if position < len(found):
        delay = dt.timedelta(minutes=incident.escalation_delay_minutes
                             or settings.escalation_delay_minutes)
        announcements.plan(incident, [(
            f"customer:{customer.id}:{position + 1}", now + delay,
            {"reason": "escalated", "assignee": assignee, "position": position + 1})], now=now)


def _remind(incident, step, *, settings, now) -> None:
    for assignee in incident.assignees:
        if assignee["type"] in ("team", "customer"):
            _tell(incident, step, assignee, 1, settings=settings, now=now)
    round_ = step.data.get("round", 1) + 1
    announcements.plan(incident, [(
        f"remind:{round_}", now + dt.timedelta(minutes=incident.renotify_minutes),
        {"reason": "reminder", "round": round_})], now=now)


def _tell_everyone_told(incident, step, *, settings, now) -> None:
    """A notice of the resolution to each channel and address told of the incident."""
    for told in outbox.told_for(f"{KIND}:{incident.id}:"):
        channel = (NotificationChannel.get_or_none(NotificationChannel.id == told.channel_id)
                   if told.channel_id else None)
        target = channel.id if channel else told.address
        subject, body, payload = messages.notice(incident, "resolved", settings=settings,
                                                 by=str(target))
        key = f"{KIND}:{incident.id}:{step.key}:{target}"[:200]
        if channel is not None:
            outbox.queue(key=key, channel=channel, kind=KIND, subject=subject, body=body,
                         payload=payload, now=now)
        else:
            outbox.queue(key=key, type=told.type, address=told.address, kind=KIND,
                         subject=subject, body=body, payload=payload, now=now)
        lifecycle.record(incident, "notified",
                         f"Told of the resolution: {told.type} {shown(told.type, told.address)}",
                         at=now, key=f"notified:{key}"[:200])


def _send(incident, step, channel, *, reason: str, settings, now) -> None:
    subject, body, payload = messages.notice(incident, reason, settings=settings,
                                             by=str(channel.id))
    key = f"{KIND}:{incident.id}:{step.key}:{channel.id}"
    row = outbox.queue(key=key[:200], channel=channel, kind=KIND, subject=subject, body=body,
                       payload=payload, now=now)
    lifecycle.record(incident, "notified", f"Notified {_owner(channel)} over {channel.type}",
                     at=now, key=f"notified:{key}"[:200],
                     data={"delivery_id": str(row.id), "channel_id": str(channel.id),
                           "reason": reason})


def _send_to_address(incident, step, customer, *, settings, now) -> None:
    subject, body, payload = messages.notice(incident, step.data["reason"], settings=settings,
                                             by=str(customer.id))
    key = f"{KIND}:{incident.id}:{step.key}:{customer.id}"
    row = outbox.queue(key=key[:200], type="email", address=customer.email, kind=KIND,
                       subject=subject, body=body, payload=payload, now=now)
    lifecycle.record(incident, "notified", f"Notified {customer.name} {customer.surname} at "
                     "their sign-in address (no personal channel)", at=now,
                     key=f"notified:{key}"[:200], data={"delivery_id": str(row.id)})


def _record_outcome(rows, status: str, error: str | None, *, now) -> None:
    """The timeline of each incident learns whether its notice was delivered or failed (one
    statement for a grouped message's thousands)."""
    by_row = {row.id: _uuid(row.key.split(":")[1]) for row in rows}
    known = {i for (i,) in Incident.select(Incident.id).where(
        Incident.id.in_([i for i in by_row.values() if i is not None])).tuples()}
    failed = status == "failed"
    lifecycle.record_many([
        (by_row[row.id], "failed" if failed else "delivered",
         (f"Not delivered to {row.type} {shown(row.type, row.address)}: {error}" if failed
          else f"Delivered to {row.type} {shown(row.type, row.address)}"),
         {"delivery_id": str(row.id)}, f"delivery:{row.id}:{'failed' if failed else 'sent'}")
        for row in rows if by_row[row.id] in known], at=now)


outbox.on_outcome(KIND, _record_outcome)


def _uuid(text: str):
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def _owner(channel) -> str:
    if channel.team_id is not None:
        team = Team.get_or_none(Team.id == channel.team_id)
        return f"team {team.name}" if team else "a team"
    customer = Customer.get_or_none(Customer.id == channel.customer_id)
    return f"{customer.name} {customer.surname}" if customer else "a customer"


def _who(assignee: dict) -> str:
    return f"{assignee['type']} {assignee['id']}"
