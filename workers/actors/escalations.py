import dramatiq

import workers.broker as runtime
from models import clock
from models.incidents import notices


@dramatiq.actor(actor_name="escalations.run", queue_name="notifications", max_retries=20,
                min_backoff=1_000, max_backoff=60_000)
def run(step_id):
    """Carries out one step of an incident's notices (first notices, an escalation, a
    reminder, the resolution); a second run sends nothing twice."""
    notices.run_step(step_id, settings=runtime.current_settings(), now=clock.now())
