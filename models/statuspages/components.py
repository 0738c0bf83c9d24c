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
    group with its own, in the order given. A component or group given with the `id` of one
    of the page's keeps that id (so incidents naming it still do); without one it is new;
    those not given are deleted. Raises `Invalid` naming each component whose subject is
    missing or not the organisation's, and each id that is not the page's or comes twice
    (nothing is written then)."""
    problems: dict[str, str] = {}
    kept_groups = _kept(ComponentGroup, page, [(f"groups.{i}", g) for i, g in enumerate(groups)],
                        problems)
    listed = [(f"components.{i}", c) for i, c in enumerate(components)] + [
        (f"groups.{i}.components.{j}", c) for i, g in enumerate(groups)
        for j, c in enumerate(g.get("components") or [])]
    kept = _kept(Component, page, listed, problems)
    for where, fields in listed:
        _check(page, where, fields, problems)
    if problems:
        raise Invalid("Some groups or components are not valid.", fields=problems)
    # kept components leave their groups first: a deleted group takes its components along
    Component.update(group=None).where(Component.page == page.id).execute()
    _delete_others(ComponentGroup, page, kept_groups)
    _delete_others(Component, page, kept)
    position = _put(page, None, components, 0, now)
    for index, fields in enumerate(groups):
        group = _save(ComponentGroup, fields.get("id"), page=page, name=fields["name"],
                      position=index)
        position = _put(page, group, fields.get("components") or [], position, now)


def _delete_others(model, page, kept: list) -> None:
    query = model.delete().where(model.page == page.id)
    (query.where(model.id.not_in(kept)) if kept else query).execute()


def _kept(model, page, listed: list[tuple[str, dict]], problems: dict) -> list:
    """The ids given that name rows of the page (problems for the others and repeats)."""
    given = [(where, fields["id"]) for where, fields in listed if fields.get("id")]
    known = {row_id for (row_id,) in model.select(model.id).where(
        model.page == page.id, model.id.in_([i for _, i in given])).tuples()} if given else set()
    seen = set()
    for where, ident in given:
        if ident not in known:
            problems[f"{where}.id"] = "not one of this page's"
        elif ident in seen:
            problems[f"{where}.id"] = "given twice"
        seen.add(ident)
    return list(known)


def _put(page, group, components: list[dict], position: int, now) -> int:
    for fields in components:
        _save(Component, fields.get("id"), page=page, group=group, name=fields["name"],
              description=fields.get("description"), type=fields["type"],
              subject_id=_subject_id(fields),
              manual_status=fields.get("status") or "operational", position=position,
              created_at=now)
        position += 1
    return position


def _save(model, ident, **columns):
    if ident is None:
        return model.create(**columns)
    columns.pop("created_at", None)
    model.update(**columns).where(model.id == ident).execute()
    return model.get_by_id(ident)


def _subject_id(fields: dict):
    return None if fields["type"] == "manual" else fields.get("resource_id")


def _check(page, where: str, fields: dict, problems: dict) -> None:
    kind, subject = fields["type"], _subject_id(fields)
    if kind == "manual":
        return
    if subject is None:
        problems[f"{where}.resource_id"] = f"a {kind} component needs its subject"
    elif not is_organisations(kind, subject, page.organisation_id):
        problems[f"{where}.resource_id"] = f"no such {kind} in this organisation"


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
