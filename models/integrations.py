"""Uptime monitor integrations (endpoints 64-67): a monitor tells an Atlassian Statuspage
page when it goes down and when it is back, or moves components of one of our own pages.

An integration of type `pinghome` names one of the organisation's status pages
(`integration`) and components of it (`items`); it stores no state and sends nothing: while
the monitor is down those components show `major_outage`, as if they followed it
(`models.statuspages.status` reads them in one query), and the page's subscribers hear of it.
So one list of integrations drives both kinds of page.

An integration of type `statuspageIo` names the page (`page_id`, the API's `integration`),
its components (`component_ids`, the API's `items`) and an API key, kept sealed with the
installation's secret key (Fernet) and never answered. When the monitor goes down (an overall
state change the incident rules act on, handed over by `state_changes.on_change`) an
`IntegrationIncident` row is written, unique per (integration, opening change), and one
outbox message asks Statuspage to create the incident with the components in
`major_outage`; when it comes back up the row is marked with the recovering change and,
once Statuspage has answered the create with its incident id (kept from the delivery's
`answer`), a second message resolves that incident and sets the components `operational`.

A resolve never overtakes its create: whichever comes second of "the create was answered"
and "the monitor is up" queues the resolve. Both write the same row first, so on Postgres
the second waits for the first's commit and then sees both; SQLite serializes writers. Both
messages are keyed by the incident row (`statuspage:open:<id>`, `statuspage:resolve:<id>`):
a redelivered change or a retried send never opens a second incident. A create that fails
for good marks the row failed and nothing is resolved.
"""
from __future__ import annotations

import base64
import hashlib
import json
import uuid

import peewee
from cryptography.fernet import Fernet, InvalidToken

from models import outbox, state_changes
from models.db import JSONField, UtcDateTimeField, UUIDModel
from models.errors import Invalid, NotFound
from models.monitors import operations as monitors
from models.monitors.tables import Monitor
from models.organisations import Team
from models.services import Service
from models.statuspages.tables import Component, StatusPage

TYPES = ("statuspageIo", "pinghome")
STATUSPAGE, PINGHOME = TYPES
OPEN, RESOLVE = "statuspage.open", "statuspage.resolve"
TRANSPORT = "statuspage"


class MonitorIntegration(UUIDModel):
    monitor = peewee.ForeignKeyField(Monitor, backref="integrations", on_delete="CASCADE",
                                     index=True)
    type = peewee.CharField(max_length=32)
    page_id = peewee.CharField(max_length=64)
    component_ids = JSONField()
    name = peewee.CharField(max_length=200, null=True)     # the incident's name there
    status = peewee.CharField(max_length=16)               # the incident's opening status
    message = peewee.TextField(null=True)                  # the incident's first update
    sealed_api_key = peewee.TextField()
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()


class IntegrationIncident(UUIDModel):
    integration = peewee.ForeignKeyField(MonitorIntegration, backref="incidents",
                                         on_delete="CASCADE")
    opened_by = peewee.UUIDField()                         # the state change that went down
    external_id = peewee.CharField(max_length=64, null=True)   # Statuspage's incident id
    resolved_by = peewee.UUIDField(null=True)              # the state change that came up
    failed = peewee.BooleanField(default=False)            # the create failed for good
    created_at = UtcDateTimeField()

    class Meta:
        indexes = ((("integration", "opened_by"), True),)


# -- the API's operations -----------------------------------------------------------------

def list_integrations(caller, monitor_id) -> list[MonitorIntegration]:
    monitor = monitors.monitor_for(caller, monitor_id)
    return list(MonitorIntegration.select().where(MonitorIntegration.monitor == monitor.id)
                .order_by(MonitorIntegration.created_at, MonitorIntegration.id))


def create_integration(caller, monitor_id, fields: dict, *, settings, now) -> MonitorIntegration:
    """Adds an integration to a monitor the caller manages; the API key is sealed."""
    monitor = monitors.monitor_for(caller, monitor_id, "manager")
    if fields["type"] == PINGHOME:
        _check_own_page(monitor, fields["integration"], fields["items"])
    elif not fields.get("api_key"):
        raise Invalid("A Statuspage integration needs the page's API key.",
                      fields={"api_key": "required for type statuspageIo"})
    return MonitorIntegration.create(
        monitor=monitor.id, type=fields["type"], page_id=fields["integration"],
        component_ids=list(fields["items"]), name=fields.get("name"),
        status=fields.get("status") or "investigating", message=fields.get("message"),
        sealed_api_key=seal(settings, fields["api_key"]) if fields.get("api_key") else "",
        created_at=now, updated_at=now)


def update_integration(caller, monitor_id, integration_id, fields: dict, *, settings,
                       now) -> MonitorIntegration:
    """Changes the given fields, keeps the others (the key too, unless a new one is given).
    An incident already open there is resolved with the components it was opened with."""
    integration = integration_for(caller, monitor_id, integration_id, "manager")
    columns = {"integration": "page_id", "items": "component_ids", "name": "name",
               "status": "status", "message": "message", "type": "type"}
    for field, value in fields.items():
        if field == "api_key":
            integration.sealed_api_key = seal(settings, value)
        elif field in columns and (value is not None or field in ("name", "message")):
            setattr(integration, columns[field], list(value) if field == "items" else value)
    if integration.type == PINGHOME:
        _check_own_page(Monitor.get_by_id(integration.monitor_id), integration.page_id,
                        integration.component_ids)
    elif not integration.sealed_api_key:
        raise Invalid("A Statuspage integration needs the page's API key.",
                      fields={"api_key": "required for type statuspageIo"})
    integration.updated_at = now
    integration.save()
    return integration


def _check_own_page(monitor, page_id, component_ids) -> None:
    """A `pinghome` integration names a page of the monitor's organisation and components
    of that page; `Invalid` otherwise (another organisation's page is as unknown)."""
    page = (StatusPage.select().join(Team, on=(Team.organisation == StatusPage.organisation))
            .join(Service, on=(Service.team == Team.id))
            .where(StatusPage.id == _uuid(page_id), Service.id == monitor.service_id).first())
    if page is None:
        raise Invalid("No such status page in the organisation.",
                      fields={"integration": "must be the id of one of the organisation's "
                                             "status pages"})
    wanted = {_uuid(c) for c in component_ids}
    found = {c.id for c in Component.select(Component.id).where(
        Component.page == page.id, Component.id.in_([c for c in wanted if c]))}
    if None in wanted or found != wanted:
        raise Invalid("Some items are not components of that page.",
                      fields={"items": "must be ids of the page's components"})


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def components_following(monitor_ids) -> dict[str, list[str]]:
    """The components (ids) that `pinghome` integrations make follow each monitor."""
    found: dict[str, list[str]] = {}
    for integration in MonitorIntegration.select(
            MonitorIntegration.monitor, MonitorIntegration.component_ids).where(
            MonitorIntegration.type == PINGHOME, MonitorIntegration.monitor.in_(list(monitor_ids))):
        found.setdefault(str(integration.monitor_id), []).extend(integration.component_ids)
    return found


def delete_integration(caller, monitor_id, integration_id) -> None:
    integration_for(caller, monitor_id, integration_id, "manager").delete_instance()


def integration_for(caller, monitor_id, integration_id, role: str = "user") -> MonitorIntegration:
    """The monitor's integration if the caller holds `role` for the monitor; `NotFound`
    alike for another organisation's monitor and for another monitor's integration."""
    monitor = monitors.monitor_for(caller, monitor_id, role)
    found = MonitorIntegration.get_or_none(MonitorIntegration.id == integration_id,
                                           MonitorIntegration.monitor == monitor.id)
    if found is None:
        raise NotFound("No such integration.")
    return found


# -- sealing the API key ------------------------------------------------------------------

def _fernet(settings) -> Fernet:
    digest = hashlib.sha256(f"integration-key:{settings.secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(settings, api_key: str) -> str:
    return _fernet(settings).encrypt(api_key.encode()).decode()


def unseal(settings, sealed: str) -> str:
    """The API key; `ValueError` if it was sealed under another secret key."""
    try:
        return _fernet(settings).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError("the integration's API key was sealed with another "
                         "PINGHOME_SECRET_KEY; set the key again") from None


# -- reacting to the monitor going down and up --------------------------------------------

def on_state_change(changes, *, now) -> None:
    """Opens one external incident per integration when a monitor goes down (none while one
    is open), marks the open ones to resolve when it is up; the integrations of a batch's
    monitors read in one query. Keyed by the change; safe to repeat."""
    monitors = [c.subject_id for c in changes if c.subject_type == "monitor"]
    if not monitors:
        return
    of_monitor: dict = {}
    for integration in MonitorIntegration.select().where(
            MonitorIntegration.monitor.in_(monitors), MonitorIntegration.type == STATUSPAGE):
        of_monitor.setdefault(str(integration.monitor_id), []).append(integration)
    for change in changes:
        if change.subject_type == "monitor":
            _apply(change, of_monitor.get(str(change.subject_id), []), now=now)


def _apply(change, integrations: list, *, now) -> None:
    for integration in integrations:
        open_ones = IntegrationIncident.select().where(
            IntegrationIncident.integration == integration.id,
            IntegrationIncident.resolved_by.is_null(), IntegrationIncident.failed == False)  # noqa: E712
        if change.to_status == "down":
            if not open_ones.exists():
                _open(integration, change, now=now)
        elif change.to_status == "up":
            for incident in open_ones:
                (IntegrationIncident.update(resolved_by=change.id)
                 .where(IntegrationIncident.id == incident.id,
                        IntegrationIncident.resolved_by.is_null()).execute())
                _resolve_when_ready(incident.id, now=now)


def _open(integration: MonitorIntegration, change, *, now) -> None:
    IntegrationIncident.insert(id=uuid.uuid4(), integration=integration.id, opened_by=change.id,
                               created_at=now).on_conflict_ignore().execute()
    incident = IntegrationIncident.get(IntegrationIncident.integration == integration.id,
                                       IntegrationIncident.opened_by == change.id)
    monitor = Monitor.get_by_id(integration.monitor_id)
    name = integration.name or f"{monitor.name} is down"
    body = integration.message or (f"{monitor.name} is down"
                                   + (f": {change.cause}" if change.cause else "."))
    outbox.queue(key=f"statuspage:open:{incident.id}", type=TRANSPORT,
                 address=integration.page_id, kind=OPEN, subject=name, body=body,
                 payload={"sealed_key": integration.sealed_api_key, "incident": {
                     "name": name, "status": integration.status, "body": body,
                     "component_ids": integration.component_ids,
                     "components": {c: "major_outage" for c in integration.component_ids}}},
                 now=now)


def _resolve_when_ready(incident_id, *, now) -> None:
    """Queues the resolve once both the create's answer and the recovery are in."""
    incident = IntegrationIncident.get_by_id(incident_id)
    if incident.external_id is None or incident.resolved_by is None or incident.failed:
        return
    integration = MonitorIntegration.get_by_id(incident.integration_id)
    monitor = Monitor.get_by_id(integration.monitor_id)
    opened = outbox.Delivery.get(outbox.Delivery.key == f"statuspage:open:{incident.id}")
    # the page and components it was opened on, should the integration have changed since
    components = json.loads(opened.payload)["incident"]["component_ids"]
    body = f"{monitor.name} is up again."
    outbox.queue(key=f"statuspage:resolve:{incident.id}", type=TRANSPORT,
                 address=opened.address, kind=RESOLVE, subject=f"{monitor.name} is up",
                 body=body, payload={"sealed_key": integration.sealed_api_key,
                                     "incident_id": incident.external_id, "incident": {
                                         "status": "resolved", "body": body,
                                         "component_ids": components,
                                         "components": {c: "operational" for c in components}}},
                 now=now)


def _opened(rows, status, error, *, now) -> None:
    """The create's outcome: keep Statuspage's incident id (then resolve if the monitor is
    up already), or mark the incident failed."""
    for row in rows:
        incident_id = row.key.removeprefix("statuspage:open:")
        if status == "failed":
            IntegrationIncident.update(failed=True).where(
                IntegrationIncident.id == incident_id).execute()
            continue
        external_id = str((json.loads(row.answer) if row.answer else {}).get("id") or "")
        if not external_id:
            continue
        IntegrationIncident.update(external_id=external_id[:64]).where(
            IntegrationIncident.id == incident_id).execute()
        _resolve_when_ready(incident_id, now=now)


state_changes.on_change(on_state_change)
outbox.on_outcome(OPEN, _opened)
