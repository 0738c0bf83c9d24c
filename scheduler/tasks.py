"""What the scheduler does periodically, in the order of the table."""
from __future__ import annotations

from models import channels, jobs, mail
from scheduler.loop import PeriodicTask


def periodic_tasks() -> list[PeriodicTask]:
    return [
        PeriodicTask("mail.requeue_stalled", 60, mail.requeue_stalled),
        PeriodicTask("notifications.requeue_stalled", 60, channels.requeue_stalled),
        PeriodicTask("accounts.purge_expired", 3600,
                     lambda now: jobs.defer("accounts.purge_expired")),
    ]
