import dramatiq

import workers.broker as runtime
from models import clock


@dramatiq.actor(actor_name="probes.run", queue_name="probes", max_retries=6,
                min_backoff=1_000, max_backoff=10_000, time_limit=180_000)
def run(region, due_epoch, entries):
    """Runs one region's batch of checks due at `due_epoch` ([monitor id, version] pairs).
    Sent to `probes.<region>` by the scheduler. A batch redelivered from a killed worker or
    retried (the database restarting: within about half a minute) runs even if late, and
    records nothing twice."""
    from workers import probing
    probing.run_batch(region, due_epoch, entries, settings=runtime.current_settings(),
                      now=clock.now(), again=runtime.is_started_again())
