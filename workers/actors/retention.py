import dramatiq

import workers.broker as runtime
from models import clock, statistics
from models.servers import metrics as server_metrics


@dramatiq.actor(actor_name="retention.purge", queue_name="default", max_retries=3,
                time_limit=3_600_000)
def purge():
    """Deletes raw results, rollups and server readings past their retention; a second run
    finds less."""
    settings = runtime.current_settings()
    statistics.purge_results(now=clock.now(), retention_days=settings.result_retention_days)
    statistics.purge_rollups(now=clock.now(), retention_days=settings.rollup_retention_days)
    server_metrics.purge_readings(now=clock.now(), retention_days=settings.result_retention_days)
