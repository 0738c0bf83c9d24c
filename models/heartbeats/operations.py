"""Managing heartbeat monitors (endpoints 74-79): each expects a signal every `interval`
seconds, or at the slots of a cron `schedule` in an IANA `timezone`, plus `grace` seconds."""
from __future__ import annotations

import zoneinfo

from models import cron, directory, services, usage
from models.db import database, serialized
from models.errors import Invalid
from models.heartbeats.expectations import arm, deadline
from models.heartbeats.tables import METHODS, Heartbeat

DEFAULTS = {"methods": list(METHODS), "interval": 3600, "grace": 300, "timezone": "UTC",
            "schedule": None, "max_run_seconds": None}
_COLUMNS = {"interval": "interval_seconds", "grace": "grace_seconds"}


def accepted_methods(heartbeat_id: str) -> frozenset | None:
    """The gateway's directory look-up: the methods a heartbeat accepts, None for no such
    heartbeat."""
    row = (Heartbeat.select(Heartbeat.methods).where(Heartbeat.id == heartbeat_id)
           .tuples().first())
    return None if row is None else _methods(row[0])


def all_accepted_methods():
    """The gateway's directory, whole: (id, methods) of every heartbeat."""
    query = Heartbeat.select(Heartbeat.id, Heartbeat.methods).tuples()
    for heartbeat_id, methods in query.iterator():      # not kept as well as the copy
        yield str(heartbeat_id), _methods(methods)


_METHOD_SETS: dict[frozenset, frozenset] = {}


def _methods(methods: list) -> frozenset:
    """One frozenset per combination of methods, however many heartbeats accept it."""
    found = frozenset(methods)
    return _METHOD_SETS.setdefault(found, found)


def heartbeat_for(caller, heartbeat_id, role: str = "user") -> Heartbeat:
    """The heartbeat if the caller holds `role` in its service's team; `NotFound` otherwise."""
    return services.owned_row(Heartbeat, heartbeat_id, caller, role, missing="No such heartbeat.")


def create_heartbeat(caller, fields: dict, *, now) -> Heartbeat:
    service = services.service_for(caller, fields["service_id"], "manager")
    columns = _columns({**DEFAULTS, **_given(fields)}, now=now)
    organisation = services.organisation_of(service)
    with serialized():
        usage.ensure_room(organisation, "heartbeat_monitors")
        heartbeat = Heartbeat.create(service=service, created_at=now, updated_at=now, **columns)
    return heartbeat


def update_heartbeat(caller, heartbeat_id, fields: dict, *, now) -> Heartbeat:
    """The given fields change, the others stay; `service_id` moves it to another service the
    caller manages. A new expectation applies from the last signal on."""
    heartbeat = heartbeat_for(caller, heartbeat_id, "manager")
    service = heartbeat.service
    if fields.get("service_id") and str(fields["service_id"]) != str(heartbeat.service_id):
        service = services.service_for(caller, fields["service_id"], "manager")
    given = _given(fields)
    if "interval" in given and "schedule" not in given:
        given["schedule"] = None           # an interval replaces a schedule
    columns = _columns({**_current(heartbeat), **given}, now=now)
    with database.atomic():
        heartbeat = Heartbeat.get_by_id(heartbeat.id)
        for name, value in columns.items():
            setattr(heartbeat, name, value)
        if heartbeat.status == "up" and heartbeat.deadline_cause == "missed":
            heartbeat.deadline_at = deadline(heartbeat, heartbeat.last_signal_at)
            arm(heartbeat)
        heartbeat.service, heartbeat.updated_at = service, now
        heartbeat.save()
    directory.forget(heartbeat.id)
    return heartbeat


def delete_heartbeats(caller, heartbeat_ids: list) -> int:
    """Deletes all of them or none: an id the caller cannot manage is a 404."""
    found = [heartbeat_for(caller, i, "manager") for i in dict.fromkeys(heartbeat_ids)]
    retire([h.id for h in found])
    return len(found)


def retire(heartbeat_ids: list) -> None:
    Heartbeat.delete().where(Heartbeat.id.in_(heartbeat_ids)).execute()
    for heartbeat_id in heartbeat_ids:
        directory.forget(heartbeat_id)


def list_heartbeats(caller, service_id) -> list[Heartbeat]:
    service = services.service_for(caller, service_id)
    return list(Heartbeat.select().where(Heartbeat.service == service)
                .order_by(Heartbeat.created_at))


def _columns(merged: dict, *, now) -> dict:
    """Checks the fields as a whole and answers the table's columns."""
    problems = {}
    timezone = merged["timezone"]
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        problems["timezone"] = "not an IANA time zone, e.g. Europe/Berlin"
        timezone = "UTC"
    if merged["schedule"] is not None:
        wrong = cron.problem(merged["schedule"], timezone=timezone, now=now)
        if wrong:
            problems["schedule"] = wrong
    if merged["schedule"] is None and not merged["interval"]:
        problems["interval"] = "an interval or a schedule is required"
    if problems:
        raise Invalid("Invalid heartbeat: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                      fields=problems)
    columns = {_COLUMNS.get(name, name): value for name, value in merged.items()
               if name != "service_id"}
    columns["methods"] = sorted(set(columns["methods"]), key=METHODS.index)
    return columns


def _given(fields: dict) -> dict:
    return {k: v for k, v in fields.items() if k != "service_id" or v is not None}


def _current(heartbeat: Heartbeat) -> dict:
    return {"name": heartbeat.name, "methods": heartbeat.methods,
            "interval": heartbeat.interval_seconds, "grace": heartbeat.grace_seconds,
            "schedule": heartbeat.schedule, "timezone": heartbeat.timezone,
            "max_run_seconds": heartbeat.max_run_seconds}
