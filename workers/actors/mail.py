import dramatiq

import workers.broker as runtime
from models import clock, mail


@dramatiq.actor(actor_name="mail.send", queue_name="notifications",
                max_retries=20, min_backoff=5_000, max_backoff=600_000)
def send(outbox_id):
    """Sends one outbox message; a redelivery of a sent message does nothing."""
    mail.deliver(outbox_id, settings=runtime.current_settings(), now=clock.now())
