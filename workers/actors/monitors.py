import dramatiq

import workers.broker as runtime
from models import clock
from models.monitors import facts


@dramatiq.actor(actor_name="monitors.look_at_expiry", queue_name="default", max_retries=5)
def look_at_expiry(monitor_id, kind):
    """Refreshes a monitor's certificate or domain facts and sends the reminders they call
    for; the reminders are claimed once each, so a redelivery mails nobody twice."""
    from workers import expiry
    expiry.look(monitor_id, kind, settings=runtime.current_settings(), now=clock.now())
    facts.send_due_reminders(monitor_id, kind, now=clock.now())
