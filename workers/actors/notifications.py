import dramatiq

import workers.broker as runtime
from models import clock, outbox
from workers import notifiers


@dramatiq.actor(actor_name="notifications.deliver", queue_name="notifications",
                max_retries=20, min_backoff=5_000, max_backoff=600_000)
def deliver(delivery_id):
    """Sends one outbox message (mail, SMS, webhook, chat) through its transport; a
    redelivery of a sent one sends nothing. At-least-once, see `outbox.deliver`."""
    settings = runtime.current_settings()
    outbox.deliver(delivery_id, transport=lambda message: notifiers.send(message,
                                                                         settings=settings),
                   settings=settings, now=clock.now(), again=runtime.is_started_again())
