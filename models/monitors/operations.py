"""Managing uptime monitors (endpoints 44-61). Every change bumps the monitor's `version` and
writes a `ScheduleChange`, so the scheduler picks it up at the monitor's next due time."""
from __future__ import annotations

import peewee

from models import changelog, services, usage
from models.db import database, serialized
from models.errors import Conflict, Invalid, NotFound
from models.monitors import spec
from models.monitors.tables import (ExpiryReminder, Monitor, MonitorFacts, RegionState)

DEFAULTS = {"method": "GET", "skip_ssl_error": False, "not_follow_redirect": False,
            "is_advanced": False, "grace_period": 0, "recovery_period": 0, "interval": 60,
            "timeout": 10}


def monitor_for(caller, monitor_id, role: str = "user") -> Monitor:
    """The monitor if the caller holds `role` in its service's team; `NotFound` otherwise."""
    return services.owned_row(Monitor, monitor_id, caller, role, missing="No such monitor.")


def create_monitor(caller, fields: dict, *, settings, now) -> Monitor:
    service = services.service_for(caller, fields["service_id"], "manager")
    organisation = services.organisation_of(service)
    columns = spec.normalise({**DEFAULTS, **_given(fields)}, organisation=organisation,
                             settings=settings, now=now)
    with serialized():
        usage.ensure_room(organisation, "uptime_monitors")
        monitor = Monitor.create(service=service, created_at=now, updated_at=now, **columns)
        changelog.record_change("monitor", monitor.id, now=now)
    return monitor


def update_monitor(caller, monitor_id, fields: dict, *, settings, now) -> Monitor:
    """Applies the given fields over the current ones (others stay) and checks the result as
    a whole; `service_id` moves the monitor to another service the caller manages."""
    monitor = monitor_for(caller, monitor_id, "manager")
    service = monitor.service
    if fields.get("service_id") and str(fields["service_id"]) != str(monitor.service_id):
        service = services.service_for(caller, fields["service_id"], "manager")
    merged = {**_current(monitor), **_given(fields)}
    columns = spec.normalise(merged, organisation=services.organisation_of(service),
                             settings=settings, now=now)
    with database.atomic():
        (Monitor.update(service=service, updated_at=now, version=Monitor.version + 1, **columns)
         .where(Monitor.id == monitor.id).execute())
        RegionState.delete().where(RegionState.monitor == monitor.id,
                                   RegionState.region.not_in(columns["regions"])).execute()
        changelog.record_change("monitor", monitor.id, now=now)
    return Monitor.get_by_id(monitor.id)


def set_enabled(caller, monitor_id, *, enabled: bool, now) -> Monitor:
    monitor = monitor_for(caller, monitor_id, "manager")
    with database.atomic():
        (Monitor.update(enabled=enabled, updated_at=now, version=Monitor.version + 1)
         .where(Monitor.id == monitor.id).execute())
        changelog.record_change("monitor", monitor.id, now=now)
    return Monitor.get_by_id(monitor.id)


def delete_monitors(caller, monitor_ids: list, *, now) -> int:
    """Deletes all the monitors or none: an id the caller cannot manage is a 404 naming it."""
    found = [monitor_for(caller, monitor_id, "manager") for monitor_id in dict.fromkeys(monitor_ids)]
    with database.atomic():
        retire([m.id for m in found], now=now)
    return len(found)


def retire(monitor_ids: list, *, now) -> None:
    """Stops the monitors (the scheduler drops them at its next tick) and deletes them with
    their results and states."""
    for monitor_id in monitor_ids:
        changelog.record_change("monitor", monitor_id, now=now)
    Monitor.delete().where(Monitor.id.in_(monitor_ids)).execute()


def list_monitors(caller, service_id) -> list[Monitor]:
    service = services.service_for(caller, service_id)
    return list(Monitor.select().where(Monitor.service == service).order_by(Monitor.created_at))


def region_states(monitor: Monitor) -> list[dict]:
    """Each of the monitor's regions with its own view (unknown until its first result)."""
    states = {s.region: s for s in RegionState.select().where(RegionState.monitor == monitor)}
    return [{"region": region, "state": states.get(region)} for region in monitor.regions]


def facts(monitor: Monitor, kind: str) -> MonitorFacts | None:
    return MonitorFacts.get_or_none(MonitorFacts.monitor == monitor, MonitorFacts.kind == kind)


def set_reminder(caller, monitor_id, kind: str, days_before: list[int], *, create: bool,
                 now) -> ExpiryReminder:
    """Creates (POST; 409 if one exists) or replaces (PUT; 404 if none) the monitor's `kind`
    reminder thresholds."""
    monitor = monitor_for(caller, monitor_id, "manager")
    _check_reminder_applies(monitor, kind)
    days = sorted(set(days_before), reverse=True)
    existing = reminder(monitor, kind)
    if create and existing:
        raise Conflict(f"This monitor has a {kind} reminder already; change it with PUT.",
                       code="reminder_exists")
    if not create and not existing:
        raise NotFound(f"This monitor has no {kind} reminder; create one with POST.")
    try:
        if existing:
            (ExpiryReminder.update(days_before=days, updated_at=now)
             .where(ExpiryReminder.id == existing.id).execute())
        else:
            ExpiryReminder.create(monitor=monitor, kind=kind, days_before=days, created_at=now,
                                  updated_at=now)
    except peewee.IntegrityError:
        raise Conflict(f"This monitor has a {kind} reminder already.", code="reminder_exists") \
            from None
    return reminder(monitor, kind)


def get_reminder(caller, monitor_id, kind: str) -> ExpiryReminder:
    found = reminder(monitor_for(caller, monitor_id), kind)
    if found is None:
        raise NotFound(f"This monitor has no {kind} reminder.")
    return found


def delete_reminder(caller, monitor_id, kind: str) -> None:
    monitor = monitor_for(caller, monitor_id, "manager")
    if not ExpiryReminder.delete().where(ExpiryReminder.monitor == monitor,
                                         ExpiryReminder.kind == kind).execute():
        raise NotFound(f"This monitor has no {kind} reminder.")


def reminder(monitor, kind) -> ExpiryReminder | None:
    return ExpiryReminder.get_or_none(ExpiryReminder.monitor == monitor,
                                      ExpiryReminder.kind == kind)


def has_certificate(monitor) -> bool:
    return monitor.type == "ssl" or (monitor.type in ("http", "keyword")
                                     and (monitor.url or "").lower().startswith("https://"))


def has_domain(monitor) -> bool:
    return bool(monitor.host) and not spec._is_address(monitor.host)


def _check_reminder_applies(monitor, kind) -> None:
    if kind == "ssl" and not has_certificate(monitor):
        raise Invalid("This monitor's target has no certificate (use an https URL or an ssl "
                      "monitor).", fields={"days_before": "no certificate to watch"})
    if kind == "tld" and not has_domain(monitor):
        raise Invalid("This monitor's target is not a domain name.",
                      fields={"days_before": "no domain to watch"})


def _given(fields: dict) -> dict:
    return {name: value for name, value in fields.items() if name in spec.FIELDS}


def _current(monitor: Monitor) -> dict:
    current = {name: getattr(monitor, name) for name in spec.FIELDS
               if name not in ("interval", "timeout")}
    current.update(interval=monitor.interval_seconds, timeout=monitor.timeout_seconds)
    return current
