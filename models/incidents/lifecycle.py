"""Incidents (endpoints 94-97): opened by a rule or by hand, then acknowledged and resolved;
every step kept in the incident's timeline.

`status` goes `triggered` -> `acknowledged` -> `resolved`, or `triggered` -> `resolved`; a
resolved incident stays resolved (a new match opens a new one). Any member of the incident's
team may acknowledge, resolve and edit it.
"""
from __future__ import annotations

import uuid

from models import organisations
from models.accounts import Customer
from models.channels import NotificationChannel
from models.db import insert_rows, serialized
from models.errors import Conflict, NotFound
from models.incidents import announcements, assignees as assignees_domain, messages
from models.incidents.rulesets import normalise_actions
from models.incidents.tables import Incident, IncidentEvent

_OPEN_FIELDS = [Incident.id, Incident.organisation, Incident.team, Incident.ruleset,
                Incident.source, Incident.trigger_key, Incident.dedup_key,
                Incident.state_change, Incident.webhook_event, Incident.subject_type,
                Incident.subject_id, Incident.name, Incident.description, Incident.urgency,
                Incident.status, Incident.assignees, Incident.actions,
                Incident.escalation_delay_minutes, Incident.renotify_minutes,
                Incident.created_at, Incident.updated_at]
_EVENT_FIELDS = [IncidentEvent.incident, IncidentEvent.at, IncidentEvent.kind,
                 IncidentEvent.message, IncidentEvent.data, IncidentEvent.actor, IncidentEvent.key]


# -- opened by rules --------------------------------------------------------------------------

def open_many(openings: list[dict], *, now) -> list[Incident]:
    """Opens an incident for each opening (`ruleset`, `team_id`, `trigger_key`, `dedup_key`,
    `name`, `description`, `at`, `why`, and `state_change`, `webhook_event` or `subject`
    where it has them) in one statement, unless its trigger opened one before (nothing
    happens) or one of its ruleset with the same dedup key is open (the match goes to that
    one's timeline). Answers the incidents opened. Safe to repeat: each incident is its own
    claim."""
    if not openings:
        return []
    rows, by_id = [], {}
    for opening in openings:
        incident_id, ruleset = uuid.uuid4(), opening["ruleset"]
        subject_type, subject_id = opening.get("subject") or (None, None)
        rows.append((incident_id, ruleset.organisation_id, opening["team_id"], ruleset.id,
                     ruleset.rule_type, opening["trigger_key"], opening["dedup_key"],
                     opening.get("state_change"), opening.get("webhook_event"), subject_type,
                     subject_id, opening["name"][:300], opening["description"],
                     ruleset.urgency, "triggered", ruleset.assignees, ruleset.actions,
                     ruleset.escalation_delay_minutes, ruleset.renotify_minutes,
                     opening["at"], now))
        by_id[incident_id] = opening
    taken = {Incident.id.python_value(i)
             for (i,) in insert_rows(Incident, _OPEN_FIELDS, rows, returning=(Incident.id,))}
    opened = list(Incident.select().where(Incident.id.in_(list(taken)))) if taken else []
    steps = [(incident.id, "opened", f"Opened by ruleset '{opening['ruleset'].name}': "
              f"{opening['why']}", {"trigger": opening["trigger_key"]}, "opened")
             for incident, opening in ((i, by_id[i.id]) for i in opened)]
    for incident_id, opening in by_id.items():
        if incident_id not in taken and opening["dedup_key"] is not None:
            found = open_with_key(opening["ruleset"].id, opening["dedup_key"])
            if found is not None:
                trigger = opening["trigger_key"]
                steps.append((found.id, "matched", f"Matched again: {opening['why']}",
                              {"trigger": trigger}, f"matched:{trigger}"[:200]))
    record_many(steps, at=now)
    announcements.opened_many(opened, now=now)
    return opened


def open_with_key(ruleset_id, dedup_key: str) -> Incident | None:
    return (Incident.select().where(Incident.ruleset == ruleset_id,
                                    Incident.dedup_key == dedup_key,
                                    Incident.status != "resolved").first())


def resolve_open(query, *, cause: str, key: str, at, now) -> int:
    """Resolves the open incidents of `query` (a subject's, a dedup key's) as `cause` says;
    answers how many. Safe to repeat: a resolved one is left alone."""
    count = 0
    for incident in query.where(Incident.status != "resolved"):
        count += _move(incident, "resolved", actor=None, message=cause, key=key, at=at, now=now)
    return count


def acknowledge_open(query, *, cause: str, key: str, at, now) -> int:
    count = 0
    for incident in query.where(Incident.status == "triggered"):
        count += _move(incident, "acknowledged", actor=None, message=cause, key=key, at=at,
                       now=now)
    return count


def of_subject(subject_type: str, subject_id):
    return Incident.select().where(Incident.subject_type == subject_type,
                                   Incident.subject_id == subject_id)


def of_key(ruleset_id, dedup_key: str):
    return Incident.select().where(Incident.ruleset == ruleset_id,
                                   Incident.dedup_key == dedup_key)


# -- by hand ---------------------------------------------------------------------------------

def create_incident(caller, team_id, fields: dict, *, now) -> Incident:
    """An incident declared by a member of the team; its assignees are told at once."""
    team = organisations.team_for(caller, team_id)
    chosen = assignees_domain.normalise(fields.get("assignees"), team.organisation_id)
    incident = Incident.create(
        organisation=team.organisation_id, team=team, source="manual", name=fields["name"],
        description=fields.get("description"), urgency=fields["urgency"], assignees=chosen,
        actions=normalise_actions(fields.get("actions"), team.organisation_id),
        escalation_delay_minutes=fields.get("escalation_delay_minutes"),
        renotify_minutes=fields.get("renotify_minutes"), created_at=now, updated_at=now)
    record(incident, "opened", f"Opened by {caller.actor_name}", at=now,
           actor=caller.actor_id, key="opened")
    announcements.opened_many([incident], now=now)
    return incident


def update_incident(caller, incident_id, fields: dict, *, now) -> Incident:
    """The given fields change, the others stay; `status` acknowledges or resolves."""
    incident = incident_for(caller, incident_id)
    changes = {name: fields[name] for name in ("name", "description", "urgency",
                                               "escalation_delay_minutes", "renotify_minutes")
               if name in fields}
    if "assignees" in fields:
        changes["assignees"] = assignees_domain.normalise(fields["assignees"],
                                                          incident.organisation_id)
    if "actions" in fields:
        changes["actions"] = normalise_actions(fields["actions"], incident.organisation_id)
    if changes:
        Incident.update(**changes, updated_at=now).where(Incident.id == incident.id).execute()
        record(incident, "updated", f"{', '.join(sorted(changes))} changed by "
               f"{caller.actor_name}", at=now, actor=caller.actor_id,
               data={"fields": sorted(changes)})
        if changes.keys() & {"name", "description", "urgency", "actions"}:
            announcements.updated(Incident.get_by_id(incident.id), now=now)
    status = fields.get("status")
    if status and status != incident.status:
        move(caller, incident.id, status, now=now)
    return Incident.get_by_id(incident.id)


def move(caller, incident_id, status: str, *, now) -> Incident:
    """Acknowledges or resolves the incident on behalf of a member of its team. Moving to the
    status it has changes nothing; back to `triggered`, or out of `resolved`, is a 409."""
    incident = incident_for(caller, incident_id)
    if status == incident.status:
        return incident
    if status == "triggered" or incident.status == "resolved":
        raise Conflict(f"A {incident.status} incident cannot become {status}.",
                       code="incident_status")
    _move(incident, status, actor=caller.actor_id,
          message=f"{status.capitalize()} by {caller.actor_name}",
          key=f"{status}:{caller.actor_ref}", at=now, now=now)
    return Incident.get_by_id(incident.id)


def acknowledge_by_link(incident_id, *, by: str, token: str, settings, now) -> Incident:
    """Acknowledges the incident from the signed link of a notice (`messages`); `NotFound`
    alike for a bad token and an unknown incident. An incident acknowledged or resolved
    already stays as it is."""
    incident = incident_by_link(incident_id, by=by, token=token, settings=settings)
    if incident.status == "triggered":
        _move(incident, "acknowledged", actor=_customer_or_none(by),
              message=f"Acknowledged from the link sent to {by}", key=f"link:{by}",
              at=now, now=now)
    return Incident.get_by_id(incident.id)


def incident_by_link(incident_id, *, by: str, token: str, settings) -> Incident:
    """The incident a notice's signed link names; `NotFound` alike for a bad token and an
    unknown incident."""
    incident = Incident.get_or_none(Incident.id == incident_id)
    if incident is None or not messages.is_valid_token(settings, incident.id, by, token):
        raise NotFound("No such incident, or the link is not valid.")
    return incident


def _customer_or_none(by: str):
    """The person a link was sent to, when it went to a person or their channel."""
    channel = NotificationChannel.get_or_none(NotificationChannel.id == _uuid_or_none(by))
    if channel is not None:
        return channel.customer_id
    customer = Customer.get_or_none(Customer.id == _uuid_or_none(by))
    return customer.id if customer else None


def _uuid_or_none(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _move(incident: Incident, status: str, *, actor, message: str, key: str, at, now) -> int:
    """Moves one incident on, if it still is where it was read (a race with another move
    changes nothing twice); records the step and announces it. Answers 1 if it moved."""
    stamp = {"acknowledged": {"acknowledged_at": at, "acknowledged_by": actor},
             "resolved": {"resolved_at": at, "resolved_by": actor}}[status]
    with serialized():
        moved = (Incident.update(status=status, updated_at=now, **stamp)
                 .where(Incident.id == incident.id, Incident.status == incident.status)
                 .execute())
        if not moved:
            return 0
        record(incident, status, message, at=at, actor=actor, key=key)
        announcements.moved(incident, status, now=now)
    return 1


# -- reading ---------------------------------------------------------------------------------

def incident_for(caller, incident_id) -> Incident:
    """The incident if the caller is in its team; `NotFound` alike for one that does not
    exist and one of another team or organisation."""
    incident = Incident.get_or_none(Incident.id == incident_id)
    if incident is None:
        raise NotFound("No such incident.")
    try:
        organisations.team_for(caller, incident.team_id)
    except NotFound:
        raise NotFound("No such incident.") from None
    return incident


def list_incidents(caller, team_id, *, status=None, urgency=None, start=None, end=None):
    """The team's incidents, newest first, filtered by status, urgency and when they opened."""
    team = organisations.team_for(caller, team_id)
    query = Incident.select().where(Incident.team == team.id)
    if status:
        query = query.where(Incident.status.in_(status))
    if urgency:
        query = query.where(Incident.urgency.in_(urgency))
    if start is not None:
        query = query.where(Incident.created_at >= start)
    if end is not None:
        query = query.where(Incident.created_at < end)
    return query.order_by(Incident.created_at.desc(), Incident.id)


def timeline(caller, incident_id) -> list[IncidentEvent]:
    incident = incident_for(caller, incident_id)
    return list(IncidentEvent.select().where(IncidentEvent.incident == incident.id)
                .order_by(IncidentEvent.at, IncidentEvent.id))


def record(incident, kind: str, message: str, *, at, actor=None, data=None,
           key: str | None = None) -> bool:
    """Adds a step to the incident's timeline (once per `key`, when given); answers whether
    it was new."""
    taken = insert_rows(IncidentEvent, _EVENT_FIELDS, [
        (incident.id, at, kind, message, data, actor, key)], returning=(IncidentEvent.id,))
    return bool(taken)


def record_many(steps: list[tuple], *, at) -> None:
    """`record` for many steps (incident id, kind, message, data, key) in one statement."""
    if steps:
        insert_rows(IncidentEvent, _EVENT_FIELDS, [
            (incident_id, at, kind, message, data, None, key)
            for incident_id, kind, message, data, key in steps])
