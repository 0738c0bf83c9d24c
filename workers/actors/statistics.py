import dramatiq

import workers.broker  # noqa: F401  (the broker is installed before any actor is declared)
from models import clock, statistics


@dramatiq.actor(actor_name="statistics.rollup", queue_name="default", max_retries=3,
                time_limit=600_000)
def rollup():
    """Rebuilds the hourly rollups of the last hours from raw results, and sums the days whose
    hours are final; repeating it rewrites the same rows (a long catch-up of days goes on
    from the last day summed if the time limit stops it)."""
    statistics.rollup_due(now=clock.now())
