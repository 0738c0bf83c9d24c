"""What a report counts for one group of results (a bucket in a region, a bucket, a region,
the whole range), outside maintenance, and how groups combine."""
from __future__ import annotations

from models.statistics import histogram


class Tally:
    """Checks, failures and response times of a group of results.

    `exact_p95` is the exact percentile of a group computed whole from raw results. Combined
    with other responses it no longer holds, and the p95 is read from the merged
    `histograms` instead (every part with responses brings its own: one per rollup row, as
    its stored text until merged, one per raw part)."""
    __slots__ = ("checks", "failures", "responses", "total_ms", "low_ms", "high_ms",
                 "histograms", "exact_p95")

    def __init__(self, checks: int = 0, failures: int = 0, responses: int = 0,
                 total_ms: float = 0.0, low_ms: float | None = None,
                 high_ms: float | None = None, histograms: list | None = None,
                 exact_p95: float | None = None):
        self.checks, self.failures = checks, failures
        self.responses, self.total_ms, self.low_ms, self.high_ms = (responses, total_ms,
                                                                   low_ms, high_ms)
        self.histograms = histograms if histograms is not None else []
        self.exact_p95 = exact_p95

    @classmethod
    def combined(cls, tallies: list[Tally]) -> Tally:
        """A new tally holding all of `tallies`."""
        checks = failures = responses = 0
        total_ms, low_ms, high_ms, histograms, exact_p95 = 0.0, None, None, [], None
        for tally in tallies:
            checks += tally.checks
            failures += tally.failures
            if not tally.responses:
                continue
            # an exact p95 survives only if no other part brings responses
            exact_p95 = None if responses else tally.exact_p95
            if not responses or tally.low_ms < low_ms:
                low_ms = tally.low_ms
            if not responses or tally.high_ms > high_ms:
                high_ms = tally.high_ms
            responses += tally.responses
            total_ms += tally.total_ms
            histograms += tally.histograms
        return cls(checks, failures, responses, total_ms, low_ms, high_ms, histograms,
                   exact_p95)

    def p95(self) -> float | None:
        if self.exact_p95 is not None or not self.responses:
            return self.exact_p95
        return histogram.estimate(self.merged(), self.low_ms, self.high_ms)

    def merged(self) -> list[int]:
        """The histogram of all its responses (merged once, then kept merged)."""
        if len(self.histograms) > 1 or self.histograms and isinstance(self.histograms[0], str):
            self.histograms = [histogram.merge(histogram.decoded(self.histograms))]
        return self.histograms[0] if self.histograms else []

    def response_ms(self) -> dict:
        """avg, min, max and p95 of the response times (ms, unrounded: they are measured)."""
        responses = self.responses
        if not responses:
            return {"avg": None, "min": None, "max": None, "p95": None}
        p95 = self.exact_p95
        return {"avg": self.total_ms / responses, "min": self.low_ms, "max": self.high_ms,
                "p95": self.p95() if p95 is None else p95}

    def region_out(self) -> dict:
        responses = self.responses
        return figures_out(self.checks, self.failures, responses, self.total_ms, self.low_ms,
                           self.high_ms, self.p95() if responses else None)


_NO_TIMES = {"avg": None, "min": None, "max": None, "p95": None}


def figures_out(checks: int, failures: int, responses: int, total_ms: float,
                low_ms: float | None, high_ms: float | None, p95_ms: float | None) -> dict:
    """A region's figures as a report gives them: uptime in checks, response times in ms
    (unrounded). The one shaping of a bucket's region, whether from a tally or straight from
    a rollup row (inline, as a month has 2,000 of them)."""
    return {"checks": checks, "failures": failures,
            "uptime_percent": (uptime_of(checks, failures) if failures else 100.0)
            if checks else None,
            "response_ms": {"avg": total_ms / responses, "min": low_ms, "max": high_ms,
                            "p95": p95_ms} if responses else dict(_NO_TIMES)}


def uptime_of(checks: int, failures: int) -> float:
    """The share of `checks` that passed, in percent to 4 decimals (half up), in integers: the
    same figure the rollups' SQL renders (a float's round() would differ from it at ties),
    and cheaper than round()."""
    return (2_000_000 * (checks - failures) + checks) // (2 * checks) / 10_000


class Levels:
    """The tallies of a report at each level: per bucket and region (`cells`), per bucket,
    per region, and over everything; buckets that one rollup row answers whole are
    `rendered` (as the JSON text the rollup keeps) or `shaped` instead of tallied."""

    def __init__(self, cells=None, buckets=None, regions=None, overall: Tally | None = None,
                 shaped=None, rendered=None):
        self.cells: dict[tuple[int, str], Tally] = cells or {}
        self.buckets: dict[int, Tally] = buckets or {}
        self.regions: dict[str, Tally] = regions or {}
        self.overall = overall or Tally()
        # buckets given whole, shaped already: (checks, failures, response_ms, {region: out})
        self.shaped: dict[int, tuple] = shaped or {}
        # buckets given whole as text: (the regions it names, comma separated; its JSON)
        self.rendered: dict[int, tuple[str, str]] = rendered or {}

    @classmethod
    def of_rolled(cls, cells: dict[tuple[int, str], Tally], buckets: dict[int, Tally]
                  ) -> Levels:
        """The levels of rollups: the cells and the buckets (over all regions) as read, the
        regions summed from the cells, the whole range from the regions."""
        by_region: dict = {}
        for (_, region), cell in cells.items():
            by_region.setdefault(region, []).append(cell)
        regions = {region: Tally.combined(part) for region, part in by_region.items()}
        for tally in regions.values():
            tally.merged()           # so the overall merges one histogram per region
        return cls(cells, buckets, regions, Tally.combined(list(regions.values())))

    def add(self, other: Levels) -> None:
        """Adds another part of the range (the raw part to the rolled-up one); a group only
        one part has keeps that part's tally, and so its exact p95."""
        for mine, theirs in ((self.cells, other.cells), (self.buckets, other.buckets),
                             (self.regions, other.regions)):
            for key, tally in theirs.items():
                mine[key] = Tally.combined([mine[key], tally]) if key in mine else tally
        self.overall = Tally.combined([self.overall, other.overall])
