"""Status badges for READMEs: what a badge says (label, message, colour) about a public status
page, an uptime monitor or a heartbeat, and the signed addresses of the latter two.

A page's badge is as public as the page; a monitor's or a heartbeat's needs no sign-in, so
its address carries an HMAC of the subject under the installation's secret key: the address
is what is shared, and it cannot be guessed from the id. A wrong signature is `NotFound`
exactly like an unknown id, so nobody learns which ids exist.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import math
import unicodedata

from models.errors import NotFound
from models.heartbeats.tables import Heartbeat
from models.monitors import maintenance
from models.monitors.tables import Monitor
from models.state_changes import StateChange, of_subject, time_in_states
from models.statistics.timeline import Timeline
from models.statuspages import public

UPTIME_DAYS = 30
MAX_LABEL_CHARS = 40
_SIGNATURE_CHARS = 32        # 128 bits of the HMAC-SHA256, in hex
_MISSING = "No such badge."
_SUBJECT_TYPES = {Monitor: "monitor", Heartbeat: "heartbeat"}     # as state changes name them

GREEN, LIGHT_GREEN, YELLOW_GREEN, YELLOW = "#4c1", "#97ca00", "#a4a61d", "#dfb317"
ORANGE, RED, BLUE, GREY = "#fe7d37", "#e05d44", "#007ec6", "#9f9f9f"
PAGE_STATUSES = {"operational": ("operational", GREEN),
                 "under_maintenance": ("maintenance", BLUE),
                 "degraded_performance": ("degraded performance", YELLOW),
                 "partial_outage": ("partial outage", ORANGE),
                 "major_outage": ("major outage", RED)}
# (at least this uptime percent, colour), best first
UPTIME_COLOURS = ((99.9, GREEN), (99.0, LIGHT_GREEN), (97.0, YELLOW_GREEN), (95.0, YELLOW),
                  (90.0, ORANGE), (0.0, RED))


@dataclasses.dataclass(frozen=True, slots=True)
class Badge:
    label: str
    message: str
    colour: str


# -- addresses ------------------------------------------------------------------------------

def signature(kind: str, subject_id, *, settings) -> str:
    """The signature in the badge addresses of a monitor or heartbeat (the same for all of
    its badges; it changes only with the secret key)."""
    message = f"badge:{kind}:{subject_id}".encode()
    return hmac.new(settings.secret_key.encode(), message,
                    hashlib.sha256).hexdigest()[:_SIGNATURE_CHARS]


def urls(kind: str, subject_id, *, settings) -> dict[str, str]:
    """The addresses of the subject's badges: `status` and `uptime`."""
    base = f"{settings.public_url.rstrip('/')}/badge/{kind}/{subject_id}/" \
        f"{signature(kind, subject_id, settings=settings)}"
    return {"status": f"{base}/status.svg", "uptime": f"{base}/uptime.svg"}


def subject_signed(kind: str, subject_id, given: str, *, settings) -> Monitor | Heartbeat:
    """The monitor or heartbeat whose badge address this is; `NotFound` for a wrong
    signature as for an unknown id (compared in constant time, before any lookup)."""
    expected = signature(kind, subject_id, settings=settings).encode()
    if not hmac.compare_digest(expected, given.encode("utf-8", "replace")):
        raise NotFound(_MISSING)
    model = Monitor if kind == "monitor" else Heartbeat
    found = model.get_or_none(model.id == subject_id)
    if found is None:
        raise NotFound(_MISSING)
    return found


# -- what a badge says ----------------------------------------------------------------------

def page_badge(name: str, *, now: dt.datetime) -> Badge:
    """A public page's overall status (what its page shows at `now`); `NotFound` for a
    private, disabled or unknown page alike (a private page's status is not public)."""
    page = public.page_named(name)
    if page.type == "private":
        raise NotFound("No such status page.")
    return Badge("status", *PAGE_STATUSES[public.overall_status(page, now=now)])


def status_badge(subject: Monitor | Heartbeat, *, now: dt.datetime) -> Badge:
    """The subject's name and its state: up, down, paused or in maintenance (a monitor),
    waiting for its first signal (a heartbeat) or pending its first check."""
    label = _label(subject.name)
    if isinstance(subject, Monitor):
        if not subject.enabled:
            return Badge(label, "paused", GREY)
        if maintenance.in_window(subject.maintenance_cron_expression,
                                 subject.maintenance_duration, now):
            return Badge(label, "maintenance", BLUE)
    if subject.status == "up":
        return Badge(label, "up", GREEN)
    if subject.status == "down":
        return Badge(label, "down", RED)
    return Badge(label, "waiting" if isinstance(subject, Heartbeat) else "pending", GREY)


def uptime_badge(subject: Monitor | Heartbeat, *, now: dt.datetime) -> Badge:
    """The subject's uptime over the last 30 days, as its statistics count it: for a monitor
    the share of the watched time it was not down, for a heartbeat of the time it was up or
    down that it was up; `no data` while there is none."""
    percent = uptime_percent(subject, now=now)
    label = f"uptime {UPTIME_DAYS}d"
    if percent is None:
        return Badge(label, "no data", GREY)
    colour = next(colour for least, colour in UPTIME_COLOURS if percent >= least)
    return Badge(label, _percent(percent), colour)


def uptime_percent(subject: Monitor | Heartbeat, *, now: dt.datetime) -> float | None:
    """None for a subject never checked: its statistics would count a monitor's unchecked
    time as up, which a badge should not claim."""
    start = now - dt.timedelta(days=UPTIME_DAYS)
    if not of_subject(_SUBJECT_TYPES[type(subject)], subject.id).where(
            StateChange.changed_at <= now).exists():
        return None
    if isinstance(subject, Monitor):
        timeline = Timeline.of(subject, start, now, now=now)
        watched = timeline.watched_seconds(start.timestamp(), now.timestamp())
        down = timeline.down_seconds(start.timestamp(), now.timestamp())
        return 100 * (1 - down / watched) if watched else None
    [(up, down)] = time_in_states("heartbeat", subject.id, [(start, now)])
    return 100 * up / (up + down) if up + down else None


def _percent(value: float) -> str:
    # rounded down: 99.999% is not "100%" (the epsilon keeps 99.5 from turning 99.49)
    shown = math.floor(value * 100 + 1e-6) / 100
    return f"{shown:.2f}".rstrip("0").rstrip(".") + "%"


def _label(name: str) -> str:
    """A name fit for a badge: no control characters (XML forbids most of them), at most
    `MAX_LABEL_CHARS` characters."""
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cs", "Cn"))
    name = name.strip() or "status"
    return name if len(name) <= MAX_LABEL_CHARS else name[:MAX_LABEL_CHARS - 1] + "…"
