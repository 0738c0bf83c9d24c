"""Rulesets and incidents (endpoints 83-88, 94-97): what each request may carry, and the
answers. Rules that need the database (teams, assignees, webhooks in scope) live in
`models.incidents`."""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import pydantic
from pydantic import Field, StringConstraints

from api.schemas.base import Body, Page, Query, Title, csv_list
from api.schemas.webhooks import Description
from models.clock import isoformat
from models.conditions import MAX_CONDITIONS
from models.incidents.tables import ASSIGNEE_TYPES

RuleType = Literal["state-change", "webhook"]
Level = Literal["team", "organisation"]
Urgency = Literal["low", "medium", "high", "critical"]
Status = Literal["triggered", "acknowledged", "resolved"]
Minutes = Annotated[int, Field(ge=1, le=7 * 24 * 60)]
Path = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)]


class Assignee(Body):
    type: Literal[ASSIGNEE_TYPES]
    id: Id | int = Field(description="a UUID; an `ocs` schedule's integer id")


class Setting(Body):
    id: Id | None = None
    status_page_id: Id | None = None
    component_id: Id | None = None


class Action(Body):
    id: Id | None = None
    type: Literal["trigger-alerts"]
    settings: Annotated[list[Setting], Field(max_length=50)] = []


Assignees = Annotated[list[Assignee], Field(max_length=50)]
Actions = Annotated[list[Action], Field(max_length=20)]


class RulesetFields(Body):
    rule_type: RuleType | None = None
    level: Level | None = None
    team_id: uuid.UUID | None = None
    name: Title | None = None
    description: Description | None = None
    urgency: Urgency | None = None
    assignees: Assignees | None = None
    conditions: Annotated[list[dict[str, Any]], Field(max_length=MAX_CONDITIONS)] | None = None
    webhook_ids: Annotated[list[uuid.UUID], Field(max_length=100)] | None = None
    priority: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    dedup_key: Path | None = Field(None, description="A JSON path into webhook payloads; "
                                   "default their dedup_key, then fingerprint")
    escalation_delay_minutes: Minutes | None = None
    renotify_minutes: Minutes | None = None

    def given(self) -> dict:
        return self.model_dump(exclude_unset=True)


class RulesetCreate(RulesetFields):
    rule_type: RuleType
    level: Level = "team"
    name: Title
    urgency: Urgency = "medium"


class RulesetUpdate(RulesetFields):
    pass


class ActionsBody(Body):
    actions: Actions


class IncidentCreate(Body):
    name: Title
    description: Description | None = None
    urgency: Urgency = "medium"
    assignees: Assignees = []
    actions: Actions = []
    escalation_delay_minutes: Minutes | None = None
    renotify_minutes: Minutes | None = None


class IncidentUpdate(Body):
    name: Title | None = None
    description: Description | None = None
    urgency: Urgency | None = None
    assignees: Assignees | None = None
    actions: Actions | None = None
    escalation_delay_minutes: Minutes | None = None
    renotify_minutes: Minutes | None = None
    status: Status | None = None


class IncidentQuery(Page):
    status: Annotated[list[Status], pydantic.BeforeValidator(csv_list)] | None = None
    urgency: Annotated[list[Urgency], pydantic.BeforeValidator(csv_list)] | None = None
    start_date: dt.datetime | None = Field(None, description="Opened at or after")
    end_date: dt.datetime | None = Field(None, description="Opened before")

    @pydantic.field_validator("start_date", "end_date")
    @classmethod
    def _aware(cls, value):
        return value if value is None or value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


class AcknowledgementQuery(Query):
    by: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    token: Annotated[str, StringConstraints(min_length=1, max_length=128)]


def ruleset_out(ruleset) -> dict:
    return {"id": str(ruleset.id), "rule_type": ruleset.rule_type, "level": ruleset.level,
            "team_id": None if ruleset.team_id is None else str(ruleset.team_id),
            "name": ruleset.name, "description": ruleset.description,
            "urgency": ruleset.urgency, "assignees": ruleset.assignees,
            "conditions": ruleset.conditions, "webhook_ids": ruleset.webhook_ids,
            "priority": ruleset.priority, "dedup_key": ruleset.dedup_key,
            "escalation_delay_minutes": ruleset.escalation_delay_minutes,
            "renotify_minutes": ruleset.renotify_minutes, "actions": ruleset.actions,
            "created_at": isoformat(ruleset.created_at),
            "updated_at": isoformat(ruleset.updated_at)}


def incident_out(incident) -> dict:
    return {"id": str(incident.id), "team_id": str(incident.team_id),
            "ruleset_id": None if incident.ruleset_id is None else str(incident.ruleset_id),
            "source": incident.source, "name": incident.name,
            "description": incident.description, "urgency": incident.urgency,
            "status": incident.status, "dedup_key": incident.dedup_key,
            "subject": None if incident.subject_type is None else {
                "type": incident.subject_type, "id": str(incident.subject_id)},
            "state_change_id": (None if incident.state_change_id is None
                                else str(incident.state_change_id)),
            "webhook_event_id": incident.webhook_event_id,
            "assignees": incident.assignees, "actions": incident.actions,
            "escalation_delay_minutes": incident.escalation_delay_minutes,
            "renotify_minutes": incident.renotify_minutes,
            "created_at": isoformat(incident.created_at),
            "updated_at": isoformat(incident.updated_at),
            "acknowledged_at": isoformat(incident.acknowledged_at),
            "acknowledged_by": _id(incident.acknowledged_by_id),
            "resolved_at": isoformat(incident.resolved_at),
            "resolved_by": _id(incident.resolved_by_id)}


def step_out(step) -> dict:
    return {"id": step.id, "at": isoformat(step.at), "kind": step.kind, "message": step.message,
            "data": step.data, "actor": _id(step.actor_id)}


def _id(value):
    return None if value is None else str(value)
