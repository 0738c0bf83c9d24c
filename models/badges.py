"""Status badges for READMEs: what a badge says (label, message, colour) about a public status
page.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from models.errors import NotFound
from models.statuspages import public

GREEN, YELLOW, ORANGE, RED, BLUE = "#4c1", "#dfb317", "#fe7d37", "#e05d44", "#007ec6"
PAGE_STATUSES = {"operational": ("operational", GREEN),
                 "under_maintenance": ("maintenance", BLUE),
                 "degraded_performance": ("degraded performance", YELLOW),
                 "partial_outage": ("partial outage", ORANGE),
                 "major_outage": ("major outage", RED)}


@dataclasses.dataclass(frozen=True, slots=True)
class Badge:
    label: str
    message: str
    colour: str


def page_badge(name: str, *, now: dt.datetime) -> Badge:
    """A public page's overall status (what its page shows at `now`); `NotFound` for a
    private, disabled or unknown page alike (a private page's status is not public)."""
    page = public.page_named(name)
    if page.type == "private":
        raise NotFound("No such status page.")
    return Badge("status", *PAGE_STATUSES[public.overall_status(page, now=now)])

