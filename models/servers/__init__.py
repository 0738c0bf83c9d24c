"""Server monitors: tables, their management, the agent's reports with the silence watch, and
the metrics query."""
import peewee

from models import services
from models.servers.tables import Server


def _count_by_service(service_ids) -> dict:
    return dict(Server.select(Server.service, peewee.fn.COUNT(Server.id))
                .where(Server.service.in_(service_ids)).group_by(Server.service).tuples())


def _retire_service_servers(service, now) -> None:
    Server.delete().where(Server.service == service).execute()


services.register_counter("server_monitors", _count_by_service)
services.register_retirer(_retire_service_servers)
