import dramatiq

import workers.broker  # noqa: F401  (the broker is installed before any actor is declared)
from models import accounts, clock


@dramatiq.actor(actor_name="accounts.purge_expired", queue_name="default", max_retries=3)
def purge_expired():
    """Deletes dead sessions and codes; repeating it deletes nothing more."""
    accounts.purge_expired(now=clock.now())
