"""A page's groups and components as a create or update gives them, and the check that
each component's subject (an uptime monitor, heartbeat or server) is the organisation's."""
from __future__ import annotations

import uuid

from models.errors import Invalid
from models.heartbeats.tables import Heartbeat
from models.monitors.tables import Monitor
from models.organisations import Team
from models.servers.tables import Server
from models.services import Service
from models.statuspages.tables import Component, ComponentGroup, StatusPage

SUBJECTS = {"resource": Monitor, "heartbeat": Heartbeat, "server": Server}


def replace(page, components: list[dict], groups: list[dict], *, now) -> None:
    """Replaces the page's groups and components: `components` outside any group, then each
    group with its own, in the order given. Raises `Invalid` naming each component whose
    subject is missing or not the organisation's (nothing is written then)."""
    problems: dict[str, str] = {}
    _check(page, components, "components", problems)
    for index, group in enumerate(groups):
        _check(page, group.get("components") or [], f"groups.{index}.components", problems)
    if problems:
        raise Invalid("Some components name no subject of this organisation.", fields=problems)
    Component.delete().where(Component.page == page.id).execute()
    ComponentGroup.delete().where(ComponentGroup.page == page.id).execute()
    position = _add(page, None, components, 0, now)
    for index, fields in enumerate(groups):
        group = ComponentGroup.create(page=page, name=fields["name"], position=index)
        position = _add(page, group, fields.get("components") or [], position, now)


def _add(page, group, components: list[dict], position: int, now) -> int:
    for fields in components:
        Component.create(page=page, group=group, name=fields["name"],
                         description=fields.get("description"), type=fields["type"],
                         subject_id=_subject_id(fields),
                         manual_status=fields.get("status") or "operational",
                         position=position, created_at=now)
        position += 1
    return position


def _subject_id(fields: dict):
    return None if fields["type"] == "manual" else fields.get("resource_id")


def _check(page, components: list[dict], where: str, problems: dict) -> None:
    for index, fields in enumerate(components):
        kind, subject = fields["type"], _subject_id(fields)
        if kind == "manual":
            continue
        if subject is None:
            problems[f"{where}.{index}.resource_id"] = f"a {kind} component needs its subject"
        elif not is_organisations(kind, subject, page.organisation_id):
            problems[f"{where}.{index}.resource_id"] = f"no such {kind} in this organisation"


def is_organisations(kind: str, subject_id, organisation_id) -> bool:
    """Whether `subject_id` is a monitor, heartbeat or server (`kind`) of the organisation."""
    model = SUBJECTS[kind]
    return (model.select().join(Service).join(Team)
            .where(model.id == uuid.UUID(str(subject_id)), Team.organisation == organisation_id)
            .exists())


def settings_problems(actions: list, organisation_id) -> dict[str, str]:
    """What is wrong with the `{status_page_id, component_id}` settings of incident or
    ruleset actions: each must name a component of one of the organisation's pages (and, when
    it names a page too, that component's page). Answers the fields in the wrong."""
    named = {}
    for i, action in enumerate(actions or []):
        for j, setting in enumerate(action.get("settings") or []):
            named[f"actions.{i}.settings.{j}"] = (_uuid(setting.get("component_id")),
                                                 setting.get("status_page_id"))
    wanted = [ident for ident, _ in named.values() if ident is not None]
    pages = {str(c): str(p) for c, p in Component.select(Component.id, Component.page)
             .join(StatusPage).where(Component.id.in_(wanted),
                                     StatusPage.organisation == organisation_id).tuples()
             } if wanted else {}
    problems = {}
    for where, (component_id, page_id) in named.items():
        if component_id is None or str(component_id) not in pages:
            problems[f"{where}.component_id"] = "no such component on your status pages"
        elif page_id not in (None, "") and str(_uuid(page_id)) != pages[str(component_id)]:
            problems[f"{where}.status_page_id"] = "the component is not on this status page"
    return problems


def _uuid(value):
    try:
        return uuid.UUID(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
