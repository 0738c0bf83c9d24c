import dramatiq

import workers.broker  # noqa: F401  (imported before any actor)
from workers.actors import notifications


@dramatiq.actor(actor_name="mail.send", queue_name="notifications",
                max_retries=20, min_backoff=5_000, max_backoff=600_000)
def send(outbox_id):
    """Forwards to `notifications.deliver`: a `mail.send` message of the previous release may
    still be queued, and its id is the delivery's (migration 0010 kept the ids). Goes away
    with the next release; nothing sends it any more."""
    notifications.deliver(outbox_id)
