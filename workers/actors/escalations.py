import dramatiq

import workers.broker as runtime
from models import clock
from models.incidents import notices


@dramatiq.actor(actor_name="escalations.run", queue_name="notifications", max_retries=20,
                min_backoff=1_000, max_backoff=60_000)
def run(step_ids):
    """Carries out a step of an incident's notices (first notices, an escalation, a
    reminder, the resolution), or a list of them together (a storm's); a second run sends
    nothing twice."""
    ids = [step_ids] if isinstance(step_ids, int) else step_ids
    notices.run_steps(ids, settings=runtime.current_settings(), now=clock.now())
