"""What the scheduler does periodically, in the order of the table. Tasks decide what is due
and enqueue it; workers do the work."""
from __future__ import annotations

import datetime as dt

import dramatiq

from models import changelog, incidents, jobs, outbox, vouchers
from models.billing import subscriptions as billing
from models.heartbeats import overdue
from models.incidents import announcements
from models.heartbeats.stream import stream_for
from models.monitors import facts
from models.servers import reports as server_reports
from models.statuspages import subscribers
from scheduler.loop import PeriodicTask
from scheduler.probes import ProbeSchedule
from workers.broker import requeue_from_dead_workers


def periodic_tasks(broker, settings) -> list[PeriodicTask]:
    probes = ProbeSchedule(probe_enqueuer(broker), batch_size=settings.probe_batch_size)
    return [
        PeriodicTask("probes.enqueue_due", 0, probes.tick),
        PeriodicTask("broker.requeue_from_dead_workers", 1,
                     lambda now: requeue_from_dead_workers(broker)),
        PeriodicTask("heartbeats.mark_overdue", 1, heartbeat_sweep(settings)),
        PeriodicTask("servers.mark_silent", 5, server_reports.mark_silent),
        PeriodicTask("notifications.requeue_stalled", 60, outbox.requeue_stalled),
        PeriodicTask("incidents.hand_over_unapplied", 30, incidents.hand_over_unapplied),
        PeriodicTask("escalations.hand_over_due", 1, announcements.hand_over_due),
        PeriodicTask("statuspages.announce_maintenance", 60, subscribers.announce_maintenance),
        PeriodicTask("vouchers.end_expired", 60, vouchers.end_expired),
        PeriodicTask("billing.end_grace", 60, billing.end_grace),
        PeriodicTask("statistics.rollup", 300, lambda now: jobs.defer("statistics.rollup")),
        PeriodicTask("monitors.look_at_expiry", 3600, _look_at_expiry),
        PeriodicTask("oncall.notify_upcoming", 60,
                     lambda now: jobs.defer("oncall.notify_upcoming")),
        PeriodicTask("oncall.warn_gaps", 3600, lambda now: jobs.defer("oncall.warn_gaps")),
        PeriodicTask("retention.purge", 3600, lambda now: jobs.defer("retention.purge")),
        PeriodicTask("changelog.forget_changes", 3600,
                     lambda now: changelog.forget_changes(now - dt.timedelta(hours=1))),
        PeriodicTask("accounts.purge_expired", 3600,
                     lambda now: jobs.defer("accounts.purge_expired")),
    ]


def heartbeat_sweep(settings):
    """Takes down overdue heartbeats, minding the signals still waiting in the stream."""
    stream = stream_for(settings)

    def sweep(now):
        return overdue.mark_overdue(now=now, settled=overdue.settled_until(now, stream))
    return sweep


def probe_enqueuer(broker):
    """Sends a batch to its region's queue (`probes.<region>`), which only that region's
    workers consume."""
    def enqueue(region: str, due_epoch: int, checks: list) -> None:
        broker.enqueue(dramatiq.Message(queue_name=f"probes.{region}", actor_name="probes.run",
                                        args=(region, due_epoch, checks), kwargs={},
                                        options={}))
    return enqueue


def _look_at_expiry(now) -> None:
    for monitor_id, kind in facts.needing_a_look(now=now):
        jobs.defer("monitors.look_at_expiry", monitor_id, kind)
