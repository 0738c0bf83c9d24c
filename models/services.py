"""Services: what a team monitors. Uptime monitors, heartbeats and server monitors belong to one.

The monitoring modules register here how to count and how to stop what they keep under a
service, so that this module needs no import of theirs.
"""
from __future__ import annotations

from typing import Callable

import peewee

from models import organisations
from models.db import UtcDateTimeField, UUIDModel, database
from models.errors import NotFound
from models.organisations import Team

# name -> function(service_ids) -> {service_id: count}
_counters: dict[str, Callable] = {}
# functions(service, now) that stop and delete what a service keeps, before it goes
_retirers: list[Callable] = []


class Service(UUIDModel):
    # CASCADE for an organisation leaving for good; a team with services is refused before
    team = peewee.ForeignKeyField(Team, backref="services", on_delete="CASCADE")
    name = peewee.CharField(max_length=200)
    created_at = UtcDateTimeField()


def register_counter(name: str, count: Callable) -> None:
    _counters[name] = count


def register_retirer(retire: Callable) -> None:
    _retirers.append(retire)


def service_for(caller, service_id, role: str = "user") -> Service:
    """The service if the caller holds at least `role` in its team; `NotFound` otherwise."""
    service = Service.get_or_none(Service.id == service_id)
    if service is None:
        raise NotFound("No such service.")
    try:
        organisations.team_for(caller, service.team_id, role)
    except NotFound:
        raise NotFound("No such service.") from None
    return service


def owned_row(model, row_id, caller, role: str, *, missing: str):
    """The row of `model` (a monitor, heartbeat or server monitor: anything with a service) if
    the caller holds `role` in its service's team; `NotFound(missing)` otherwise, alike for
    rows that do not exist and rows of other organisations."""
    row = model.get_or_none(model.id == row_id)
    if row is None:
        raise NotFound(missing)
    try:
        service_for(caller, row.service_id, role)
    except NotFound:
        raise NotFound(missing) from None
    return row


def holds_role(caller, service: Service, role: str) -> bool:
    """Whether the caller holds at least `role` in the service's team."""
    return organisations.holds_role(caller, service.team_id, role)


def organisation_of(service: Service) -> organisations.Organisation:
    return (organisations.Organisation.select().join(Team)
            .where(Team.id == service.team_id).get())


def create_service(caller, *, name: str, team_id, now) -> Service:
    team = organisations.team_for(caller, team_id, "manager")
    return Service.create(team=team, name=name, created_at=now)


def rename_service(caller, service_id, *, name: str) -> Service:
    service = service_for(caller, service_id, "manager")
    Service.update(name=name).where(Service.id == service.id).execute()
    return Service.get_by_id(service.id)


def delete_service(caller, service_id, *, now) -> None:
    """Stops and deletes the service's monitors, heartbeats and server monitors, then the
    service. Safe to repeat: a second call finds nothing (404)."""
    service = service_for(caller, service_id, "manager")
    with database.atomic():
        for retire in _retirers:
            retire(service, now)
        Service.delete().where(Service.id == service.id).execute()


def list_services(caller, team_id) -> list[Service]:
    team = organisations.team_for(caller, team_id, "user")
    return list(Service.select().where(Service.team == team).order_by(Service.created_at))


def counts(services: list[Service]) -> dict:
    """{service_id: {"monitors": n, "heartbeats": n, "server_monitors": n, ...}}."""
    ids = [s.id for s in services]
    per_kind = {name: count(ids) for name, count in _counters.items()}
    return {s.id: {name: found.get(s.id, 0) for name, found in per_kind.items()}
            for s in services}
