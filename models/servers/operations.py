"""Managing server monitors (endpoints 68-72): the same tenancy and role checks as uptime
monitors, through the server's service."""
from __future__ import annotations

import secrets

from models import plans, services
from models.db import database, serialized
from models.errors import NotFound
from models.organisations import Organisation, Team
from models.servers.tables import Server
from models.services import Service

FIELDS = ("name", "description", "timezone", "chart_type_default", "enabled")


def server_for(caller, server_id, role: str = "user") -> Server:
    """The server if the caller holds `role` in its service's team; `NotFound` otherwise."""
    server = Server.get_or_none(Server.id == server_id)
    if server is None:
        raise NotFound("No such server monitor.")
    try:
        services.service_for(caller, server.service_id, role)
    except NotFound:
        raise NotFound("No such server monitor.") from None
    return server


def create_server(caller, fields: dict, *, now) -> Server:
    """A new server monitor, `pending` until its agent first reports, with a fresh push key."""
    service = services.service_for(caller, fields["service_id"], "manager")
    columns = _given(fields)
    organisation = _organisation_of(service)
    with serialized():
        plans.ensure_room(organisation, "server_monitors", _count_in(organisation))
        return Server.create(service=service, token=new_token(), created_at=now,
                             updated_at=now, **columns)


def update_server(caller, server_id, fields: dict, *, now) -> Server:
    """Applies the given fields (others stay); `service_id` moves the server to another service
    the caller manages. Disabling stops the silence watch; enabling makes the server `pending`
    until its next report, so an old silence raises no alert."""
    server = server_for(caller, server_id, "manager")
    service = server.service
    if fields.get("service_id") and str(fields["service_id"]) != str(server.service_id):
        service = services.service_for(caller, fields["service_id"], "manager")
    columns = _given(fields)
    if columns.get("enabled") is False:
        columns["deadline_at"] = None
    elif columns.get("enabled") is True and not server.enabled:
        columns.update(status="pending", status_changed_at=now, deadline_at=None)
    Server.update(service=service, updated_at=now, **columns).where(
        Server.id == server.id).execute()
    return Server.get_by_id(server.id)


def delete_servers(caller, server_ids: list) -> int:
    """Deletes all the servers (with their readings and changes) or none: an id the caller
    cannot manage is a 404."""
    found = [server_for(caller, server_id, "manager") for server_id in dict.fromkeys(server_ids)]
    with database.atomic():
        Server.delete().where(Server.id.in_([s.id for s in found])).execute()
    return len(found)


def list_servers(caller, service_id) -> list[Server]:
    service = services.service_for(caller, service_id)
    return list(Server.select().where(Server.service == service)
                .order_by(Server.created_at, Server.id))


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _given(fields: dict) -> dict:
    """The given columns (the edge checked each, the time zone against the IANA database)."""
    return {name: value for name, value in fields.items() if name in FIELDS}


def _organisation_of(service: Service) -> Organisation:
    return Organisation.select().join(Team).where(Team.id == service.team_id).get()


def _count_in(organisation) -> int:
    return (Server.select().join(Service).join(Team)
            .where(Team.organisation == organisation).count())
