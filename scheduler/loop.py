"""The scheduler's tick loop: while it holds the leader lock, it runs each periodic task when
due. Tasks only decide what is due and enqueue it; workers do the work."""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from typing import Callable

from models import clock, metrics
from models.db import database

log = logging.getLogger(__name__)


@dataclasses.dataclass
class PeriodicTask:
    name: str
    every_seconds: float
    run: Callable[..., object]    # called as run(now=...)
    next_at: float = 0.0          # monotonic


class Scheduler:
    def __init__(self, lock, tasks: list[PeriodicTask], *, tick_seconds: float = 1.0):
        self.lock = lock
        self.tasks = tasks
        self.tick_seconds = tick_seconds
        self.is_leader = False

    def run(self, stop: threading.Event) -> None:
        """Ticks until `stop` is set; gives up the lock on the way out."""
        try:
            while not stop.is_set():
                self.tick()
                stop.wait(self.tick_seconds)
        finally:
            self.lock.release()

    def tick(self) -> None:
        leading = self.lock.hold()
        metrics.set_leader("scheduler", leading)
        if leading != self.is_leader:
            log.info("scheduler: %s", "became leader" if leading else "standing by")
            self.is_leader = leading
        if not leading:
            return
        started = time.monotonic()
        for task in self.tasks:
            if task.next_at <= started:
                task.next_at = started + task.every_seconds
                self._run(task)

    def _run(self, task: PeriodicTask) -> None:
        """Runs one task; the database connection is opened by its first query (a task that
        needs none, such as enqueueing the checks it knows, runs while the database is away)
        and handed back after."""
        try:
            task.run(now=clock.now())
        except Exception:   # one failing task (database restarting...) must not stop the others
            log.exception("scheduler: task %s failed; retrying next period", task.name)
        finally:
            if not database.is_closed():
                database.close()
