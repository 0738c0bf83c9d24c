"""What a component shows, derived when asked from what it follows, so it cannot go stale.

A component shows the worst (in `STATUSES` order) of: its subject's state (down ->
`major_outage`; an uptime monitor down in some of its regions only -> `partial_outage`), the
open incidents whose `trigger-alerts` settings name it (by urgency, until they resolve), the
`pinghome` integrations of monitors down now that name it (`major_outage`), and its
monitor's maintenance window (`under_maintenance`; in a window the monitor's own failures
count for nothing, as they count no downtime). A `manual` component shows the status it was
set to, and still the incidents that name it.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from models.heartbeats.tables import Heartbeat
from models.incidents.tables import Incident
from models.integrations import PINGHOME, MonitorIntegration
from models.monitors import maintenance
from models.monitors.tables import Monitor, RegionState
from models.servers.tables import Server
from models.statuspages.tables import STATUSES

URGENCY_STATUS = {"critical": "major_outage", "high": "major_outage",
                  "medium": "partial_outage", "low": "degraded_performance"}


@dataclasses.dataclass(frozen=True, slots=True)
class Shown:
    status: str
    since: dt.datetime | None        # since when the reason for it holds, where known
    incident_ids: tuple[str, ...] = ()


def statuses(components: list, organisation_id, *, now: dt.datetime) -> dict[str, Shown]:
    """What each component shows at `now`, by component id (one query per kind of subject
    and one for the organisation's open incidents, whatever the number of components)."""
    subjects = _subject_states(components, now)
    incidents = _naming_incidents(components, organisation_id)
    integrated = _integrated_down(components)
    shown = {}
    for component in components:
        key = str(component.id)
        causes = list(incidents.get(key, [])) + integrated.get(key, [])
        if component.type == "manual":
            causes.append((component.manual_status, None, None))
        elif component.subject_id is not None:
            causes.append(subjects.get((component.type, str(component.subject_id)),
                                       ("operational", None, None)))
        worst = max(causes, key=lambda cause: STATUSES.index(cause[0]),
                    default=("operational", None, None))
        opened = tuple(cause[2] for cause in causes if cause[2])
        shown[key] = Shown(worst[0], worst[1] or component.created_at, opened)
    return shown


def worst(found) -> str:
    """The worst of the statuses `found` (in `STATUSES` order); `operational` for none: what
    a page or a group shows overall."""
    return max(found, key=STATUSES.index, default="operational")


def status_of(component, *, now: dt.datetime) -> Shown:
    return statuses([component], component.page.organisation_id, now=now)[str(component.id)]


def _subject_states(components: list, now) -> dict[tuple[str, str], tuple]:
    wanted: dict[str, set] = {"resource": set(), "heartbeat": set(), "server": set()}
    for component in components:
        if component.type in wanted and component.subject_id is not None:
            wanted[component.type].add(component.subject_id)
    found: dict[tuple[str, str], tuple] = {}
    if wanted["resource"]:
        partly = _partly_down(wanted["resource"])
        for monitor in Monitor.select().where(Monitor.id.in_(list(wanted["resource"]))):
            found[("resource", str(monitor.id))] = _monitor_state(monitor, partly, now)
    for kind, model in (("heartbeat", Heartbeat), ("server", Server)):
        if wanted[kind]:
            for subject in model.select().where(model.id.in_(list(wanted[kind]))):
                found[(kind, str(subject.id))] = (
                    "major_outage" if subject.status == "down" else "operational",
                    subject.status_changed_at, None)
    return found


def _monitor_state(monitor, partly: dict, now) -> tuple:
    if maintenance.in_window(monitor.maintenance_cron_expression,
                             monitor.maintenance_duration, now):
        return ("under_maintenance", None, None)
    if not monitor.enabled:
        return ("operational", monitor.status_changed_at, None)
    if monitor.status == "down":
        return ("major_outage", monitor.status_changed_at, None)
    if str(monitor.id) in partly:
        return ("partial_outage", partly[str(monitor.id)], None)
    return ("operational", monitor.status_changed_at, None)


def _integrated_down(components: list) -> dict[str, list[tuple]]:
    """The components that `pinghome` integrations of monitors down now name (one query)."""
    pages = list({str(component.page_id) for component in components})
    found: dict[str, list[tuple]] = {}
    if not pages:
        return found
    query = (MonitorIntegration.select(MonitorIntegration.component_ids,
                                       Monitor.status_changed_at)
             .join(Monitor).where(MonitorIntegration.type == PINGHOME,
                                  MonitorIntegration.page_id.in_(pages),
                                  Monitor.status == "down", Monitor.enabled == True))  # noqa: E712
    for row in query.objects():
        for component_id in row.component_ids:
            found.setdefault(component_id, []).append(
                ("major_outage", row.status_changed_at, None))
    return found


def _partly_down(monitor_ids) -> dict[str, dt.datetime | None]:
    """The monitors some of whose regions see them down, with the first such change."""
    found: dict[str, dt.datetime | None] = {}
    for state in RegionState.select().where(RegionState.monitor.in_(list(monitor_ids)),
                                            RegionState.status == "down"):
        key = str(state.monitor_id)
        at = state.changed_at
        if key not in found or (at is not None and (found[key] is None or at < found[key])):
            found[key] = at
    return found


def _naming_incidents(components: list, organisation_id) -> dict[str, list[tuple]]:
    """The open incidents whose trigger-alerts settings name each component (its page too,
    when the setting names one)."""
    pages = {str(c.id): str(c.page_id) for c in components}
    found: dict[str, list[tuple]] = {}
    if not components:
        return found
    query = Incident.select(Incident.id, Incident.urgency, Incident.created_at,
                            Incident.actions).where(
        Incident.organisation == organisation_id, Incident.status != "resolved")
    for incident in query:
        for component_id in named_components(incident.actions, pages):
            found.setdefault(component_id, []).append(
                (URGENCY_STATUS.get(incident.urgency, "major_outage"), incident.created_at,
                 str(incident.id)))
    return found


def named_components(actions, pages: dict[str, str]) -> set[str]:
    """The components among `pages` (component id -> page id) that `actions` name."""
    named = set()
    for action in actions or []:
        if action.get("type") != "trigger-alerts":
            continue
        for setting in action.get("settings") or []:
            component_id = setting.get("component_id")
            page_id = setting.get("status_page_id")
            if component_id in pages and page_id in (None, pages[component_id]):
                named.add(component_id)
    return named
