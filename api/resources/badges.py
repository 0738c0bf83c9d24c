"""Status badges (SVG) under `/badge/...` for READMEs: a public status page's at
`/badge/status/{page}.svg`, a monitor's and a heartbeat's at signed addresses
(`/badge/{kind}/{id}/{signature}/status.svg` and `uptime.svg`) that a member reads from
`GET /v1/resource/{id}/badges` and `GET /v1/heartbeat/{id}/badges`.

A rendered badge is reused like a rendered page (`PageCache`: for a moment, dropped on any
write this process serves); browsers and image proxies may keep it a minute.
"""
from __future__ import annotations

import unicodedata


from api.resources.base import Resource
from api.resources.public_pages import PageCache, Rendered, templates
from models import badges, clock
from models.heartbeats import operations as heartbeats
from models.monitors import operations as monitors

MAX_AGE_SECONDS = 60
SVG = "image/svg+xml; charset=utf-8"
# Verdana at 11px (the badge's font), in px: the widths of the ASCII characters, where
# most of a badge's text is; others count as the average letter, or twice it if wide
_WIDTHS = {**dict.fromkeys("0123456789", 7.0), " ": 3.9, "%": 11.8, ".": 3.9, "-": 4.8,
           ",": 3.9, ":": 4.5, "(": 4.9, ")": 4.9, "_": 7.0, "/": 4.9, "'": 2.7, "!": 4.3,
           **dict(zip("abcdefghijklmnopqrstuvwxyz",
                      (6.7, 6.9, 5.8, 6.9, 6.6, 3.9, 6.9, 7.0, 3.0, 3.8, 6.5, 3.0, 10.7, 7.0,
                       6.7, 6.9, 6.9, 4.7, 5.7, 4.3, 7.0, 6.5, 9.0, 6.5, 6.5, 5.8))),
           **dict(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                      (7.5, 7.5, 7.7, 8.5, 7.0, 6.3, 8.5, 8.3, 4.6, 5.0, 7.6, 6.1, 9.4, 8.2,
                       8.7, 6.6, 8.7, 7.7, 7.5, 6.8, 8.0, 7.5, 10.9, 7.5, 6.8, 7.5)))}
_OTHER, _PADDING = 7.0, 5


class _BadgeResource(Resource):
    PUBLIC = {"GET"}

    def __init__(self, settings, cache: PageCache):
        super().__init__(settings)
        self.cache = cache

    def _answer(self, req, resp, key: tuple, say) -> None:
        rendered = self.cache.get(("badge", *key), lambda: render(say(clock.now())))
        resp.cache_control = ["public", f"max-age={MAX_AGE_SECONDS}"]
        rendered.send(req, resp)


class PageBadge(_BadgeResource):
    def on_get(self, req, resp, name):
        """A public status page's overall status as an SVG badge (404 for a private page)."""
        self._answer(req, resp, ("page", name),
                     lambda now: badges.page_badge(name, now=now))


class SubjectBadge(_BadgeResource):
    def __init__(self, settings, cache: PageCache, kind: str, shows: str):
        super().__init__(settings, cache)
        self.kind, self.shows = kind, shows
        self.say = badges.status_badge if shows == "status" else badges.uptime_badge

    def on_get(self, req, resp, subject_id, signature):
        """A monitor's or heartbeat's status or 30-day uptime as an SVG badge, at the signed
        address its `/badges` endpoint tells (404 for a wrong signature)."""
        subject = badges.subject_signed(self.kind, subject_id, signature,
                                        settings=self.settings)
        self._answer(req, resp, (self.kind, str(subject_id), self.shows),
                     lambda now: self.say(subject, now=now))


class MonitorBadgeUrls(Resource):
    def on_get(self, req, resp, monitor_id):
        """The addresses of the monitor's badges (`status`, 30-day `uptime`), to embed where
        no one signs in (a README): anyone with an address sees that badge."""
        monitor = monitors.monitor_for(req.context.caller, monitor_id)
        resp.media = badges.urls("monitor", monitor.id, settings=self.settings)


class HeartbeatBadgeUrls(Resource):
    def on_get(self, req, resp, heartbeat_id):
        """The addresses of the heartbeat's badges (`status`, 30-day `uptime`), to embed
        where no one signs in (a README): anyone with an address sees that badge."""
        heartbeat = heartbeats.heartbeat_for(req.context.caller, heartbeat_id)
        resp.media = badges.urls("heartbeat", heartbeat.id, settings=self.settings)


def render(badge: badges.Badge) -> Rendered:
    label_width = round(text_width(badge.label)) + 2 * _PADDING
    message_width = round(text_width(badge.message)) + 2 * _PADDING
    svg = templates.get_template("badge.svg").render(
        label=badge.label, message=badge.message, colour=badge.colour,
        width=label_width + message_width, label_width=label_width,
        message_width=message_width, label_x=label_width * 5,
        message_x=label_width * 10 + message_width * 5,
        label_length=(label_width - 2 * _PADDING) * 10,
        message_length=(message_width - 2 * _PADDING) * 10)
    return Rendered(svg.encode(), SVG)


def text_width(text: str) -> float:
    """An estimate of `text`'s width in px: near enough that `textLength` (which holds the
    text to it) neither squeezes nor stretches it visibly."""
    return sum(_WIDTHS.get(c, 2 * _OTHER if unicodedata.east_asian_width(c) in ("W", "F")
                           else _OTHER) for c in text)
