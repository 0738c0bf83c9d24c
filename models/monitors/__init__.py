"""Uptime monitors: tables, the rules of their fields, conditions, their operations, and the
recording of results into region and overall states."""
import peewee

from models import services
from models.monitors import operations
from models.monitors.tables import Monitor


def _count_by_service(service_ids) -> dict:
    return dict(Monitor.select(Monitor.service, peewee.fn.COUNT(Monitor.id))
                .where(Monitor.service.in_(service_ids)).group_by(Monitor.service).tuples())


def _retire_service_monitors(service, now) -> None:
    operations.retire([m.id for m in Monitor.select(Monitor.id).where(Monitor.service == service)],
                      now=now)


services.register_counter("monitors", _count_by_service)
services.register_retirer(_retire_service_monitors)
