"""Running work in batches (a storm's thousands of changes or steps in one transaction) without
letting one bad item hold up the others."""
from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger(__name__)


def together_else_alone(run: Callable[[list], int], items: list) -> int:
    """`run(items)`, all in one; should it fail, `run([item])` for each, so a poison item fails
    only itself (the first such failure is raised after the rest ran, for the job's retry).
    Answers the sum of what the runs answer."""
    try:
        return run(items)
    except Exception:
        if len(items) <= 1:
            raise
        log.exception("a batch of %d failed; running each alone", len(items))
    done, failure = 0, None
    for item in items:
        try:
            done += run([item])
        except Exception as exc:       # noqa: PERF203 (each item's own failure)
            failure = failure or exc
    if failure is not None:
        raise failure
    return done
