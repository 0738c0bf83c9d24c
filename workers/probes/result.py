"""What every probe returns."""
from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class ProbeResult:
    """The facts one probe observed.

    `ok` says whether the target answered as its protocol should (an HTTP response of any
    status, a TCP connect and greeting, an echo reply, a valid certificate ...); conditions
    over the response (status codes, keywords, JSON) are evaluated afterwards by the domain.
    """
    ok: bool
    error: str | None = None                 # short reason when not ok
    response_ms: float | None = None         # total duration
    timings: dict = dataclasses.field(default_factory=dict)   # dns_ms, connect_ms, tls_ms, first_byte_ms, total_ms
    status_code: int | None = None           # HTTP only
    headers: dict | None = None              # HTTP only: lower-case names
    body: bytes | None = None                # HTTP only: at most the cap
    details: dict = dataclasses.field(default_factory=dict)   # probe-specific facts

    @classmethod
    def failure(cls, error: str, *, response_ms: float | None = None, **details) -> "ProbeResult":
        return cls(ok=False, error=error, response_ms=response_ms, details=details)
