"""A worker process's Dramatiq worker: which queues it consumes and how it starts."""
from __future__ import annotations

import dramatiq

GENERAL_QUEUES = frozenset({"default", "notifications"})


class UnknownRegion(ValueError):
    """`--region` names a region that `PINGHOME_REGIONS` does not list."""


def queues_for(settings, region: str | None) -> set[str]:
    """`probes.<region>` for a region's pool; the region-less queues otherwise."""
    if region is None:
        return set(GENERAL_QUEUES)
    if region not in settings.regions:
        raise UnknownRegion(f"unknown region {region!r}: PINGHOME_REGIONS lists "
                         f"{', '.join(settings.regions)}")
    return {f"probes.{region}"}


def start_worker(broker, settings, queues: set[str] | None) -> dramatiq.Worker:
    """Starts consuming `queues` (every declared queue when None) on worker threads.

    Checks arrive in bursts each second, so an idle consumer polls every 100 ms (Dramatiq's
    default backs off to a second, which a check would wait out), and a process prefetches
    only as many messages as it has threads, so a busy process does not sit on batches an
    idle one could run."""
    for queue in queues or ():
        broker.declare_queue(queue)
    worker = dramatiq.Worker(broker, queues=queues, worker_threads=settings.worker_threads,
                             worker_timeout=100)
    worker.queue_prefetch = settings.worker_threads
    worker.start()
    return worker
