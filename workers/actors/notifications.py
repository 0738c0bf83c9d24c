import dramatiq

import workers.broker as runtime
from models import channels, clock
from workers import notifiers


@dramatiq.actor(actor_name="notifications.deliver", queue_name="notifications",
                max_retries=20, min_backoff=5_000, max_backoff=600_000)
def deliver(delivery_id):
    """Sends one delivery over its channel; a redelivery of a sent one sends nothing."""
    settings = runtime.current_settings()
    channels.deliver(delivery_id, transport=lambda message: notifiers.send(message,
                                                                           settings=settings),
                     settings=settings, now=clock.now())
