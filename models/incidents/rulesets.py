"""Incident rulesets (endpoints 83-88): what opens incidents, for whom, and how urgently.

A `state-change` ruleset acts on a monitor, heartbeat or server going down (and its incident
resolves when the subject comes back); a `webhook` ruleset on the events posted to its
webhooks (`webhook_ids`, none: every webhook in its scope). A `team` ruleset covers its team's
subjects and webhooks, an `organisation` one every team's. Conditions are the one condition
language (`models.conditions`) over the event's JSON document; none matches every event.
Managers and owners of the team change a team ruleset; an organisation ruleset takes an owner
of one of the organisation's teams.
"""
from __future__ import annotations

import uuid

from models import conditions, organisations
from models.errors import Invalid, NotFound
from models.incidents import assignees
from models.incidents.tables import Ruleset
from models.incidents.webhooks import Webhook
from models.statuspages import components as statuspage_components

FIELDS = ("rule_type", "level", "team_id", "name", "description", "urgency", "assignees",
          "conditions", "webhook_ids", "priority", "dedup_key", "escalation_delay_minutes",
          "renotify_minutes")


def create_ruleset(caller, fields: dict, *, now) -> Ruleset:
    columns = _columns(caller, fields)
    return Ruleset.create(**columns, actions=[], created_at=now, updated_at=now)


def update_ruleset(caller, ruleset_id, fields: dict, *, now) -> Ruleset:
    """The given fields change, the others stay (level and team may move too, by someone who
    may change the ruleset where it goes)."""
    ruleset = ruleset_for(caller, ruleset_id, change=True)
    current = {name: getattr(ruleset, name) for name in FIELDS if name != "team_id"}
    current["team_id"] = ruleset.team_id
    columns = _columns(caller, {**current, **fields})
    Ruleset.update(**columns, updated_at=now).where(Ruleset.id == ruleset.id).execute()
    return Ruleset.get_by_id(ruleset.id)


def delete_ruleset(caller, ruleset_id) -> None:
    """Deletes the ruleset; its incidents stay (they lose their link to it)."""
    ruleset = ruleset_for(caller, ruleset_id, change=True)
    Ruleset.delete().where(Ruleset.id == ruleset.id).execute()


def set_actions(caller, ruleset_id, actions: list, *, now) -> Ruleset:
    """Replaces the ruleset's actions; an action or setting without an id is new."""
    ruleset = ruleset_for(caller, ruleset_id, change=True)
    shaped = normalise_actions(actions, ruleset.organisation_id)
    Ruleset.update(actions=shaped, updated_at=now).where(Ruleset.id == ruleset.id).execute()
    return Ruleset.get_by_id(ruleset.id)


def list_rulesets(caller) -> list[Ruleset]:
    """The organisation's rulesets and those of the caller's teams, in the order they apply."""
    teams = [team.id for team, _ in organisations.caller_teams(caller)]
    query = Ruleset.select().where(
        (Ruleset.organisation == caller.organisation_id)
        & ((Ruleset.level == "organisation") | Ruleset.team.in_(teams)))
    return list(query.order_by(*APPLY_ORDER))


def ruleset_for(caller, ruleset_id, *, change: bool = False) -> Ruleset:
    """The ruleset if the caller may see it (and, with `change`, change it); `NotFound` alike
    for one that does not exist and one of another organisation."""
    ruleset = Ruleset.get_or_none(Ruleset.id == ruleset_id)
    if ruleset is None or str(ruleset.organisation_id) != str(caller.organisation_id):
        raise NotFound("No such ruleset.")
    if ruleset.level == "team":
        organisations.team_for(caller, ruleset.team_id, "manager" if change else "user")
    elif change:
        organisations.ensure_owner_of_a_team(caller, "Changing an organisation's ruleset")
    return ruleset


# nulls last: a ruleset without a priority comes after those with one, oldest first
APPLY_ORDER = (Ruleset.priority.is_null(), Ruleset.priority, Ruleset.created_at, Ruleset.id)


def in_scope(rule_type: str, *, team_id, organisation_id) -> list[Ruleset]:
    """The rulesets of `rule_type` that cover `team_id`, in the order they apply."""
    return list(Ruleset.select().where(
        Ruleset.rule_type == rule_type, Ruleset.organisation == organisation_id,
        (Ruleset.level == "organisation") | (Ruleset.team == team_id)).order_by(*APPLY_ORDER))


def parsed_conditions(ruleset: Ruleset) -> list:
    return conditions.parse(ruleset.conditions)


def dedup_path(ruleset: Ruleset) -> tuple | None:
    return conditions.parse_path(ruleset.dedup_key) if ruleset.dedup_key else None


def normalise_actions(raw: list | None, organisation_id) -> list[dict]:
    """Actions in their stored form: each with an id (a new one where it has none) and its
    settings `{id, status_page_id, component_id}` likewise. `Invalid` for a setting that names
    no component of the organisation's status pages."""
    problems = statuspage_components.settings_problems(raw or [], organisation_id)
    if problems:
        raise Invalid("Some actions name no component of your status pages.", fields=problems)
    shaped = []
    for action in raw or []:
        settings = [{"id": setting.get("id") or str(uuid.uuid4()),
                     "status_page_id": _text_id(setting.get("status_page_id")),
                     "component_id": _text_id(setting.get("component_id"))}
                    for setting in action.get("settings") or []]
        shaped.append({"id": action.get("id") or str(uuid.uuid4()), "type": action["type"],
                       "settings": settings})
    return shaped


def _text_id(value):
    return None if value in (None, "") else str(value)


def _columns(caller, fields: dict) -> dict:
    """Checks the fields together (the edge checked each one's shape) and answers the
    columns; `Invalid` names every field in the wrong."""
    problems: dict[str, str] = {}
    level, team_id = fields["level"], fields.get("team_id")
    if level == "team":
        if team_id is None:
            problems["team_id"] = "a team ruleset needs its team"
        else:
            organisations.team_for(caller, team_id, "manager")
    else:
        organisations.ensure_owner_of_a_team(caller, "An organisation's ruleset")
        team_id = None
    try:
        parsed = conditions.parse(fields.get("conditions") or [])
    except Invalid as exc:
        problems.update(exc.fields)
        parsed = []
    if fields.get("dedup_key"):
        try:
            conditions.parse_path(fields["dedup_key"])
        except ValueError as exc:
            problems["dedup_key"] = str(exc)
    webhook_ids = fields.get("webhook_ids")
    if webhook_ids is not None:
        if fields["rule_type"] != "webhook":
            problems["webhook_ids"] = "only a webhook ruleset names webhooks"
        else:
            webhook_ids = _webhooks(webhook_ids, caller, team_id, problems)
    try:
        chosen = assignees.normalise(fields.get("assignees"), caller.organisation_id)
    except Invalid as exc:
        problems.update(exc.fields)
        chosen = []
    if problems:
        raise Invalid(f"The ruleset is not valid: {', '.join(sorted(problems))}.",
                      fields=problems)
    return {"organisation": caller.organisation_id, "team": team_id, "level": level,
            "rule_type": fields["rule_type"], "name": fields["name"],
            "description": fields.get("description"), "urgency": fields["urgency"],
            "assignees": chosen, "conditions": conditions.dump(parsed),
            "webhook_ids": webhook_ids, "priority": fields.get("priority"),
            "dedup_key": fields.get("dedup_key") or None,
            "escalation_delay_minutes": fields.get("escalation_delay_minutes"),
            "renotify_minutes": fields.get("renotify_minutes")}


def _webhooks(ids: list, caller, team_id, problems: dict) -> list[str]:
    """The webhooks named, each the organisation's (and the team's, for a team ruleset)."""
    wanted = list(dict.fromkeys(str(i) for i in ids))
    query = Webhook.select(Webhook.id).where(Webhook.id.in_([uuid.UUID(i) for i in wanted]),
                                             Webhook.organisation == caller.organisation_id)
    if team_id is not None:
        query = query.where(Webhook.team == team_id)
    known = {str(i) for (i,) in query.tuples()}
    for index, ident in enumerate(wanted):
        if ident not in known:
            problems[f"webhook_ids.{index}"] = "no such webhook in the ruleset's scope"
    return wanted
