"""The state change history of an uptime monitor ("View Uptime Monitor State Change
History")."""
from __future__ import annotations

import datetime as dt

from models.clock import isoformat
from models.errors import Invalid
from models.monitors import maintenance
from models.state_changes import StateChange, of_subject


def state_history(monitor, *, start: dt.datetime | None = None, end: dt.datetime | None = None,
                  limit: int = 50) -> list[dict]:
    """The newest `limit` state changes of `monitor` with changed_at in [start, end), overall
    (`region` None) and per region, newest first; at one instant the overall change comes
    before the regions' (in name order). `silenced` tells whether the change fell in a
    maintenance window (no alert is raised then). Raises Invalid for a limit under 1."""
    if limit < 1:
        raise Invalid("limit must be a positive number.", fields={"limit": "not positive"})
    query = of_subject("monitor", monitor.id)
    if start is not None:
        query = query.where(StateChange.changed_at >= start)
    if end is not None:
        query = query.where(StateChange.changed_at < end)
    query = query.order_by(StateChange.changed_at.desc(), StateChange.region.is_null(False),
                           StateChange.region).limit(limit)
    return [_change_out(change, monitor) for change in query]


def _change_out(change: StateChange, monitor) -> dict:
    return {"id": str(change.id), "region": change.region, "from_status": change.from_status,
            "to_status": change.to_status, "cause": change.cause,
            "regions_down": change.regions_down,
            "silenced": maintenance.in_window(monitor.maintenance_cron_expression,
                                              monitor.maintenance_duration, change.changed_at),
            "changed_at": isoformat(change.changed_at)}
