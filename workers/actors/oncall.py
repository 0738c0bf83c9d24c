import dramatiq

import workers.broker as runtime
from models import clock
from models.oncall import shift_notices


@dramatiq.actor(actor_name="oncall.notify_upcoming", queue_name="default", max_retries=3)
def notify_upcoming():
    """Tells people of the shifts they start soon; each notice is keyed by shift and person,
    so a redelivery, or the next minute's run, tells nobody twice."""
    shift_notices.notify_upcoming(minutes=runtime.current_settings().shift_notice_minutes,
                                  now=clock.now())


@dramatiq.actor(actor_name="oncall.warn_gaps", queue_name="default", max_retries=3)
def warn_gaps():
    """Warns teams of the gaps in their schedules over the next 7 days; keyed by roster and
    day, so the hourly run warns once a day."""
    shift_notices.warn_gaps(now=clock.now())
