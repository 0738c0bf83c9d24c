"""Managing server monitors (endpoints 68-72): the same tenancy and role checks as uptime
monitors, through the server's service."""
from __future__ import annotations

import secrets

from models import services, usage
from models.db import database, serialized
from models.servers.tables import Server

FIELDS = ("name", "description", "timezone", "chart_type_default", "enabled")


def server_for(caller, server_id, role: str = "user") -> Server:
    """The server if the caller holds `role` in its service's team; `NotFound` otherwise."""
    return services.owned_row(Server, server_id, caller, role, missing="No such server monitor.")


def server_view(caller, server_id) -> tuple[Server, bool]:
    """The server (as `server_for`) and whether the caller may see its push key: managers and
    owners of its team only, since the key lets anyone push readings as the server."""
    server = server_for(caller, server_id)
    return server, services.holds_role(caller, server.service, "manager")


def create_server(caller, fields: dict, *, now) -> Server:
    """A new server monitor, `pending` until its agent first reports, with a fresh push key."""
    service = services.service_for(caller, fields["service_id"], "manager")
    columns = _given(fields)
    organisation = services.organisation_of(service)
    with serialized():
        usage.ensure_room(organisation, "server_monitors")
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
    """A push key; never one that begins with '-', which a command line reads as an option."""
    while (token := secrets.token_urlsafe(24)).startswith("-"):
        pass
    return token


def _given(fields: dict) -> dict:
    """The given columns (the edge checked each, the time zone against the IANA database)."""
    return {name: value for name, value in fields.items() if name in FIELDS}
