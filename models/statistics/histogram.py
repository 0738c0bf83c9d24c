"""Response-time histograms: fixed, log-spaced buckets, kept in the hourly rollups so that
percentiles of many hours can be read without the raw results.

Bucket 0 holds responses under 1 ms; buckets 1..80 split [1 ms, 120 s) evenly on a log scale,
each ending RATIO (about 1.157) times where it starts; bucket 81 holds 120 s and more.

A histogram is stored as a short JSON list: the index of its first non-empty bucket, then the
counts of that bucket and of each following one up to the last non-empty one. `[27, 3, 0, 12]`
is 3 responses in bucket 27 and 12 in bucket 29; `[]` is no response. An hour of responses
usually spans about a dozen buckets, so a month of rollups parses in a few milliseconds, where
82 counts per hour would take several times as long.

Percentiles follow Postgres' percentile_cont: linear interpolation between the two closest
ranks. Read from a histogram, each of those two ranks is placed inside the bucket that holds
it (by its position among the bucket's responses, the bucket narrowed to the data's min and
max), so the estimate and the exact value lie in the same buckets and, for responses between
1 ms and 120 s, differ by less than RATIO - 1 (15.8 %) of the exact value.
"""
from __future__ import annotations

import json
import math
from bisect import bisect_right
from itertools import accumulate, zip_longest

SLOTS = 80
LOW_MS = 1.0
HIGH_MS = 120_000.0
LOG_HIGH = math.log(HIGH_MS)
RATIO = math.exp(LOG_HIGH / SLOTS)
# bucket i spans [EDGES[i], EDGES[i + 1])
EDGES = (0.0, *(math.exp(LOG_HIGH * i / SLOTS) for i in range(SLOTS)), HIGH_MS, math.inf)
FRACTION = 0.95

# The same bucket index in Postgres: width_bucket answers 0 below 0 (under 1 ms) and
# SLOTS + 1 from LOG_HIGH on; `greatest` keeps ln() away from zero.
SLOT_SQL = f"width_bucket(ln(greatest(response_ms, 1e-9)), 0, %(log_high)s, {SLOTS})"


def slot_of(response_ms: float) -> int:
    """The bucket of one response time (as SLOT_SQL computes it in Postgres)."""
    if response_ms < LOW_MS:
        return 0
    if response_ms >= HIGH_MS:
        return SLOTS + 1
    return min(SLOTS, int(SLOTS * (math.log(response_ms) / LOG_HIGH)) + 1)


def encode(counts: dict[int, int]) -> list[int]:
    """The stored form of {bucket: count}."""
    if not counts:
        return []
    first, last = min(counts), max(counts)
    return [first, *(counts.get(slot, 0) for slot in range(first, last + 1))]


def of_slots(slots) -> list[int]:
    """The stored form of the histogram of responses in these buckets (one slot each)."""
    counts: dict[int, int] = {}
    for slot in slots:
        counts[slot] = counts.get(slot, 0) + 1
    return encode(counts)


def of_values(values) -> list[int]:
    """The stored form of the histogram of some response times."""
    return of_slots(map(slot_of, values))


def decoded(histograms: list) -> list[list[int]]:
    """`histograms` with those still in their stored text parsed (all of them in one call:
    a month of rollups has 2,000)."""
    texts = [h for h in histograms if isinstance(h, str)]
    if not texts:
        return histograms
    return [h for h in histograms if not isinstance(h, str)] + json.loads(f"[{','.join(texts)}]")


def merge(histograms: list[list[int]]) -> list[int]:
    """One histogram holding the responses of all of `histograms` (stored forms)."""
    present = [h for h in histograms if h]
    if len(present) < 2:
        return present[0] if present else []
    first = min(h[0] for h in present)
    # aligned on `first`, then summed column by column (in C: a month is 2,000 histograms)
    aligned = [[0] * (h[0] - first) + h[1:] for h in present]
    return [first, *map(sum, zip_longest(*aligned, fillvalue=0))]


def estimate(histogram: list[int], low_ms: float, high_ms: float,
             fraction: float = FRACTION) -> float | None:
    """The `fraction` percentile of the responses counted in `histogram`, whose smallest and
    largest are `low_ms` and `high_ms`; None when it counts none. Within RATIO - 1 of the
    exact value (see the module's docstring)."""
    if len(histogram) < 2:
        return None
    first = histogram[0]
    # running[i] is `first` plus the responses in the histogram's first i buckets, so
    # running[0] (the stored first index) serves as the zero before them
    running = list(accumulate(histogram))
    rank = fraction * (running[-1] - first - 1)
    below = int(rank)
    index = bisect_right(running, first + below, 1)
    if rank == below or first + below + 1 < running[index]:
        # both closest ranks in one bucket, where placement is linear in the rank
        return _placed(rank, index, running, low_ms, high_ms)
    value = _placed(below, index, running, low_ms, high_ms)
    following = _placed(below + 1, bisect_right(running, first + below + 1, 1), running,
                        low_ms, high_ms)
    return value + (rank - below) * (following - value)


def _placed(rank: float, index: int, running: list[int], low_ms: float,
            high_ms: float) -> float:
    """Where the response of (0-based) `rank` lies in the histogram's `index`-th bucket (from
    1), which holds it: the bucket's k-th of n responses sits at (k + 0.5) / n of its width,
    the bucket narrowed to [low_ms, high_ms]."""
    first, before = running[0], running[index - 1]
    low = max(EDGES[first + index - 1], low_ms)
    high = min(EDGES[first + index], high_ms)
    return low + (high - low) * (rank - before + first + 0.5) / (running[index] - before)


def exact(ordered: list[float], fraction: float = FRACTION) -> float | None:
    """percentile_cont(fraction) of sorted values, as Postgres computes it."""
    if not ordered:
        return None
    rank = fraction * (len(ordered) - 1)
    below = int(rank)
    if rank == below:
        return ordered[below]
    return ordered[below] + (rank - below) * (ordered[below + 1] - ordered[below])
