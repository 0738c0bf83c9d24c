"""Heartbeat monitors: tables, their operations, the signals the gateway takes in, their
storage in batches, the overdue sweep, and their statistics."""
import peewee

from models import services
from models.heartbeats import operations
from models.heartbeats.tables import Heartbeat


def _count_by_service(service_ids) -> dict:
    return dict(Heartbeat.select(Heartbeat.service, peewee.fn.COUNT(Heartbeat.id))
                .where(Heartbeat.service.in_(service_ids)).group_by(Heartbeat.service).tuples())


def _retire_service_heartbeats(service, now) -> None:
    operations.retire([h.id for h in Heartbeat.select(Heartbeat.id)
                       .where(Heartbeat.service == service)])


services.register_counter("heartbeats", _count_by_service)
services.register_retirer(_retire_service_heartbeats)
