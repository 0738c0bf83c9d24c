"""Carrying out an incident's steps (`announcements`): who is told, over which channel, and what
follows.

- A `team` assignee: every verified, enabled team channel at once, and the members on call
  in the team's schedule as customers.
- A `customer`: their personal channels in priority order, the next one after the escalation
  delay (the incident's, the ruleset's, else `PINGHOME_ESCALATION_DELAY_MINUTES`) while the
  incident stays unacknowledged; with no channel at all, their sign-in address.
- A `schedule` (a team's schedule): its members on call now, as customers; nobody on call:
  the team's channels.
- An `ocs` schedule: the contact on call now in its first tier, on every personal channel at
  once (they must be reached), then the next tier after the delay, and so on; after the last
  tier the first again, `escalation_loops` rounds in all. A tier with nobody on call tells
  the schedule's `default_email` and `default_phone`.
- A reminder every `renotify_minutes` while the incident stays open, to every team channel,
  first personal channel and on-call person of the assignees.
- On resolve, a notice to every channel and address told of it.

Steps (one, or a batch of them) are carried out in one transaction: each is claimed, its
messages are queued in the outbox (each keyed by incident, step and channel, so a step run
again sends nothing twice) and what follows is planned; a killed worker leaves the step
pending, for its job's redelivery or the scheduler. Messages to one channel within a few
seconds of each other go out as one (`outbox`, grouping by channel), so an outage that opens
many incidents sends few messages.
"""
from __future__ import annotations

import datetime as dt
import uuid

from models import batches, outbox
from models.accounts import Customer
from models.channels import NotificationChannel, deliverable_of, shown
from models.clock import isoformat
from models.db import serialized
from models.incidents import announcements, lifecycle, messages
from models.incidents.tables import Incident, IncidentStep
from models.oncall import escalation, rosters
from models.organisations import Team

KIND = "incident"      # the outbox kind of incident notices (grouped by channel)


def run_step(step_id, *, settings, now) -> bool:
    """Carries out one step; answers False for a step done before (or gone). Safe to repeat."""
    return run_steps([step_id], settings=settings, now=now) == 1


def run_steps(step_ids, *, settings, now) -> int:
    """Carries out steps (a storm's thousands) in one transaction, their messages queued
    together; answers how many it carried out (one done before, or gone, is skipped). Should
    one step fail the run, each runs alone, so that it holds up only itself. Safe to repeat."""
    return batches.together_else_alone(
        lambda ids: _run_steps(ids, settings=settings, now=now), list(step_ids))


def _run_steps(step_ids: list, *, settings, now) -> int:
    with serialized():
        claimed = [step_id for (step_id,) in
                   IncidentStep.update(done_at=now)
                   .where(IncidentStep.id.in_(step_ids), IncidentStep.done_at.is_null())
                   .returning(IncidentStep.id).tuples().execute()]
        if not claimed:
            return 0
        steps = list(IncidentStep.select().where(IncidentStep.id.in_(claimed))
                     .order_by(IncidentStep.id))
        incidents = {i.id: i for i in Incident.select().where(
            Incident.id.in_(list({step.incident_id for step in steps})))}
        run = _Run(settings=settings, now=now)
        for step in steps:
            run.step(incidents[step.incident_id], step)
        run.finish()
    return len(claimed)


class _Run:
    """One run of steps: the messages they send and the timeline entries saying so, written
    together at the end; the channels of each team and customer read once."""

    def __init__(self, *, settings, now):
        self.settings, self.now = settings, now
        self.messages: list[outbox.Queued] = []
        self.told: list[tuple] = []            # (incident id, message, data) per message
        self.timeline: list[tuple] = []        # what `lifecycle.record_many` takes
        self._channels: dict = {}
        self._owners: dict = {}
        self._on_call: dict = {}               # team id -> members on call now

    def step(self, incident, step) -> None:
        reason = step.data["reason"]
        if reason == "resolved":
            self._tell_everyone_told(incident, step)
        elif reason == "reminder":
            if incident.is_open:
                self._remind(incident, step)
        elif incident.status != "triggered":
            self.timeline.append((incident.id, "escalation_stopped",
                                  f"{_who(step.data['assignee'])} not told: the incident is "
                                  f"{incident.status}", None, f"stopped:{step.key}"))
        else:
            self._tell(incident, step, step.data["assignee"], step.data.get("position", 1))

    def finish(self) -> None:
        ids = outbox.queue_many(self.messages, now=self.now)
        for message, (incident_id, text, data) in zip(self.messages, self.told):
            self.timeline.append((incident_id, "notified", text,
                                  {**data, "delivery_id": str(ids[message.key])},
                                  f"notified:{message.key}"[:200]))
        lifecycle.record_many(self.timeline, at=self.now)

    def channels(self, kind: str, owner_id) -> list:
        if (kind, owner_id) not in self._channels:
            self._channels[(kind, owner_id)] = deliverable_of(kind, owner_id)
        return self._channels[(kind, owner_id)]

    def on_call(self, team_id) -> list:
        if team_id not in self._on_call:
            self._on_call[team_id] = rosters.team_on_call(team_id, self.now)
        return self._on_call[team_id]

    def _tell(self, incident, step, assignee: dict, position: int) -> None:
        kind = assignee["type"]
        if kind in ("team", "schedule"):
            on_call = self.on_call(assignee["id"])
            if kind == "team" or not on_call:
                for channel in self.channels("team", assignee["id"]):
                    self._send(incident, step, channel)
            for customer_id in on_call:
                self._tell(incident, step, {"type": "customer", "id": str(customer_id)}, 1)
            return
        if kind == "ocs":
            self._tell_tier(incident, step, assignee, escalate=step.data["reason"] != "reminder")
            return
        customer = Customer.get_or_none(Customer.id == assignee["id"])
        if customer is None:
            return
        found = self.channels("customer", customer.id)
        if not found:
            self._send_to_address(incident, step, customer)
            return
        if position > len(found):
            return
        self._send(incident, step, found[position - 1])
        if position < len(found):
            delay = dt.timedelta(minutes=incident.escalation_delay_minutes
                                 or self.settings.escalation_delay_minutes)
            announcements.plan(incident, [(
                f"customer:{customer.id}:{position + 1}", self.now + delay,
                {"reason": "escalated", "assignee": assignee, "position": position + 1})],
                now=self.now)

    def _tell_tier(self, incident, step, assignee: dict, *, escalate: bool) -> None:
        """The contact on call in the step's tier of an OCS schedule (else the schedule's
        defaults), then, unless reminding, the next tier planned after the delay."""
        loop = step.data.get("loop", 1)
        found = escalation.ocs_tier(assignee["id"], step.data.get("tier", 1))
        if found is None:
            self.timeline.append((incident.id, "escalation_stopped",
                                  f"{_who(assignee)} not told: the schedule or tier is gone",
                                  None, f"stopped:{step.key}"))
            return
        customer_id = escalation.tier_on_call(found.tier, self.now)
        customer = customer_id and Customer.get_or_none(Customer.id == customer_id)
        if customer:
            channels = self.channels("customer", customer.id)
            for channel in channels:
                self._send(incident, step, channel, why=f"on call in {found.label}")
            if not channels:
                self._send_to_address(incident, step, customer, why=f"on call in {found.label}")
        else:
            self._tell_defaults(incident, step, found)
        following = found.next_step(loop) if escalate else None
        if following:
            delay = dt.timedelta(minutes=incident.escalation_delay_minutes
                                 or self.settings.escalation_delay_minutes)
            key = f"ocs:{assignee['id']}:{following[0]}:{following[1]}"
            announcements.plan(incident, [(key, self.now + delay, {
                "reason": "escalated", "assignee": assignee, "loop": following[0],
                "tier": following[1]})], now=self.now)
            self.timeline.append((incident.id, "escalation_planned",
                                  f"Unless acknowledged, the next tier of on-call schedule "
                                  f"{found.schedule.name} is told at "
                                  f"{isoformat(self.now + delay)}", {"step": key},
                                  f"planned:{key}"))

    def _tell_defaults(self, incident, step, found) -> None:
        schedule = found.schedule
        defaults = [(kind, address) for kind, address in
                    (("email", schedule.default_email), ("sms", schedule.default_phone))
                    if address]
        if not defaults:
            self.timeline.append((incident.id, "escalation_skipped",
                                  f"Nobody on call in {found.label}, which has no default "
                                  "email or phone", None, f"skipped:{step.key}"))
        for kind, address in defaults:
            subject, body, payload = messages.notice(incident, step.data["reason"],
                                                     settings=self.settings, by=address)
            self._queue(incident, outbox.Queued(
                key=f"{KIND}:{incident.id}:{step.key}:{address}"[:200], kind=KIND,
                subject=subject, body=body, payload=payload, type=kind, address=address),
                f"Nobody on call in {found.label}: notified its default {kind} "
                f"{shown(kind, address)}", {})

    def _remind(self, incident, step) -> None:
        for assignee in incident.assignees:
            self._tell(incident, step, assignee, 1)
        round_ = step.data.get("round", 1) + 1
        announcements.plan(incident, [(
            f"remind:{round_}", self.now + dt.timedelta(minutes=incident.renotify_minutes),
            {"reason": "reminder", "round": round_})], now=self.now)

    def _tell_everyone_told(self, incident, step) -> None:
        """A notice of the resolution to each channel and address told of the incident."""
        for told in outbox.told_for(f"{KIND}:{incident.id}:"):
            channel = (NotificationChannel.get_or_none(NotificationChannel.id == told.channel_id)
                       if told.channel_id else None)
            target = channel.id if channel else told.address
            subject, body, payload = messages.notice(incident, "resolved", settings=self.settings,
                                                     by=str(target))
            self._queue(incident, outbox.Queued(
                key=f"{KIND}:{incident.id}:{step.key}:{target}"[:200], kind=KIND,
                subject=subject, body=body, payload=payload, channel=channel,
                type=None if channel else told.type, address=None if channel else told.address),
                f"Told of the resolution: {told.type} {shown(told.type, told.address)}", {})

    def _send(self, incident, step, channel, why: str = "") -> None:
        reason = step.data["reason"]
        subject, body, payload = messages.notice(incident, reason, settings=self.settings,
                                                 by=str(channel.id))
        self._queue(incident, outbox.Queued(
            key=f"{KIND}:{incident.id}:{step.key}:{channel.id}"[:200], kind=KIND,
            subject=subject, body=body, payload=payload, channel=channel),
            f"Notified {self._owner(channel)}{f' ({why})' if why else ''} over {channel.type}",
            {"channel_id": str(channel.id), "reason": reason})

    def _send_to_address(self, incident, step, customer, why: str = "") -> None:
        subject, body, payload = messages.notice(incident, step.data["reason"],
                                                 settings=self.settings, by=str(customer.id))
        self._queue(incident, outbox.Queued(
            key=f"{KIND}:{incident.id}:{step.key}:{customer.id}"[:200], kind=KIND,
            subject=subject, body=body, payload=payload, type="email",
            address=customer.email),
            f"Notified {customer.name} {customer.surname}{f' ({why})' if why else ''} at their "
            "sign-in address (no personal channel)", {})

    def _queue(self, incident, message: outbox.Queued, text: str, data: dict) -> None:
        self.messages.append(message)
        self.told.append((incident.id, text, data))

    def _owner(self, channel) -> str:
        owner = channel.team_id or channel.customer_id
        if owner not in self._owners:
            self._owners[owner] = _owner(channel)
        return self._owners[owner]


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
