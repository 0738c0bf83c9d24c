"""The public status pages: HTML (Jinja2, no JavaScript), JSON and feeds at
`/status/{page}`, where `{page}` is a subdomain or a page's own domain (the Host middleware
routes `<subdomain>.<PINGHOME_STATUS_DOMAIN>` and own domains here).

A rendered page is reused for `PINGHOME_STATUS_PAGE_CACHE_SECONDS` (the moment everyone
looks costs one render per process per second), and dropped at once when this process
writes anything (`PageCache.forget`); a change another process makes (a worker's state
change) shows after at most that long."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import threading
import time
import urllib.parse

import falcon
import jinja2
import markupsafe
from feedgen.feed import FeedGenerator

from api.resources.base import Resource
from models import clock, errors
from models.statuspages import public, subscribers

LABELS = {"operational": "Operational", "under_maintenance": "Under maintenance",
          "degraded_performance": "Degraded performance", "partial_outage": "Partial outage",
          "major_outage": "Major outage"}
MAX_FORM_BYTES = 4096


def _bar_class(percent) -> str:
    if percent is None:
        return "none"
    return "up" if percent >= 99.9 else "some" if percent >= 95 else "down"


def _when(value: str | None) -> str:
    if not value:
        return ""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).strftime(
        "%d %b %Y, %H:%M UTC")


@functools.lru_cache(maxsize=8192)
def _bars(days: tuple) -> markupsafe.Markup:
    """A component's daily uptime bars (SVG rects, each titled with its day and figure):
    4,500 of them on a page of 50 components, the bulk of its rendering, and the same until
    the daily uptime is next computed (a minute), so each component's are made once."""
    return markupsafe.Markup("".join(
        f'<rect x="{index * 4}" y="0" width="3" height="20" class="{_bar_class(percent)}">'
        f'<title>{markupsafe.escape(date)}: '
        f'{"%.2f%%" % percent if percent is not None else "no data"}</title></rect>'
        for index, (date, percent) in enumerate(days)))


def uptime_bars(days: list) -> markupsafe.Markup:
    return _bars(tuple((day["date"], day["uptime_percent"]) for day in days))


templates = jinja2.Environment(loader=jinja2.PackageLoader("api", "templates"),
                               autoescape=True, trim_blocks=True, lstrip_blocks=True)
templates.globals.update(labels=LABELS, uptime_bars=uptime_bars,
                         history_days=public.HISTORY_DAYS)
templates.filters["when"] = _when


class PageCache:
    """Answers by key, each reused for `seconds` from when its build began (so from when its
    data was read). Once one is due, the first request to ask rebuilds it while the others
    go on answering the one before: the moment everyone looks costs one build per process
    per period and nobody waits for it. Only a key not built yet (or forgotten) makes its
    askers wait, for that one build."""

    MAX_ENTRIES = 4096

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._lock = threading.Lock()
        self._entries: dict = {}        # key -> (value, when its build began)
        self._building: dict = {}       # key -> the lock its builder holds
        self._generation = 0            # moved on by `forget`: a build begun before stores nothing

    def get(self, key, build):
        if not self.seconds:
            return build()
        began = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and began - entry[1] < self.seconds:
                return entry[0]
            building = self._building.get(key)
            mine = building is None
            if mine:
                building = self._building[key] = threading.Lock()
                building.acquire()
                generation = self._generation
        if not mine:
            if entry is not None:
                return entry[0]             # stale, while another request rebuilds it
            with building:                  # the first build: wait for it, then ask again
                pass
            return self.get(key, build)
        try:
            value = build()
            with self._lock:
                if generation == self._generation:
                    if len(self._entries) >= self.MAX_ENTRIES:
                        self._entries.clear()
                    self._entries[key] = (value, began)
        finally:
            with self._lock:
                del self._building[key]
            building.release()
        return value

    def forget(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation += 1


class Snapshot:
    """A page's view as read at one moment, and what was rendered from it (HTML per base,
    JSON, feeds): every answer of a snapshot shows the same data, and none outlives it."""

    def __init__(self, view: dict):
        self.view = view
        self._lock = threading.Lock()
        self._rendered: dict = {}

    def rendered(self, key, render) -> "Rendered":
        found = self._rendered.get(key)
        if found is None:
            with self._lock:
                found = self._rendered.get(key)
                if found is None:
                    found = self._rendered[key] = render(self.view)
        return found


class Rendered:
    def __init__(self, body: bytes, content_type: str):
        self.body = body
        self.content_type = content_type
        self.etag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]

    def send(self, req, resp) -> None:
        """Answers it with its ETag, or 304 to a client that holds it already."""
        resp.etag = self.etag
        if req.get_header("If-None-Match") == self.etag:
            resp.status = falcon.HTTP_304
            return
        resp.content_type = self.content_type
        resp.data = self.body


class PublicPageBase(Resource):
    PUBLIC = {"GET", "POST"}

    def __init__(self, settings, cache: PageCache):
        super().__init__(settings)
        self.cache = cache

    def _page(self, name: str):
        return self.cache.get(("page", name), lambda: public.page_named(name))

    def _admitted(self, req, page) -> bool:
        return public.admits(page, client_ip=req.remote_addr,
                             cookie=req.cookies.get(public.cookie_name(page)),
                             settings=self.settings)

    def _answer(self, req, resp, page, kind: str, render) -> None:
        """Answers `render(view)` of the page's current snapshot (its builder renders what it
        was asked for at once, so the others go on answering the snapshot before)."""
        key = (kind, _base(req))

        def build() -> Snapshot:
            snapshot = Snapshot(public.view(page, now=clock.now()))
            snapshot.rendered(key, render)
            return snapshot

        rendered = self.cache.get(("view", str(page.id)), build).rendered(key, render)
        resp.cache_control = (["private", "no-cache"] if page.type == "private"
                              else ["public", f"max-age={max(1, round(self.cache.seconds))}"])
        if page.type == "private":
            resp.vary = ["Cookie"]
        rendered.send(req, resp)

    def _message(self, req, resp, page, status, title: str, text: str = "", *,
                 password_form: bool = False, back: bool = False, error: bool = False,
                 base: str | None = None, action: str | None = None, action_label: str = ""):
        resp.status = status
        resp.content_type = falcon.MEDIA_HTML
        resp.cache_control = ["no-store"]
        resp.text = templates.get_template("message.html").render(
            page=_branding(page), base=_base(req) if base is None else base, title=title,
            text=text, password_form=password_form, back=back, error=error, action=action,
            action_label=action_label)


class PublicPage(PublicPageBase):
    def on_get(self, req, resp, name):
        """The status page as HTML (JSON for a client that asks for `application/json`)."""
        page = self._page(name)
        if not self._admitted(req, page):
            return self._message(req, resp, page, falcon.HTTP_401, "This page is private",
                                 "Enter the page's password to see it.", password_form=True)
        if req.client_prefers(["text/html", "application/json"]) == "application/json":
            return self._answer(req, resp, page, "json", _json)
        base = _base(req)
        self._answer(req, resp, page, "html", lambda view: Rendered(
            templates.get_template("status_page.html").render(
                base=base, **view).encode(), falcon.MEDIA_HTML))


class PublicPageJson(PublicPageBase):
    def on_get(self, req, resp, name):
        """The status page as JSON: overall status, groups and components with 90 days of
        daily uptime, open incidents, maintenance and the last 14 days of incidents."""
        page = self._page(name)
        if not self._admitted(req, page):
            raise errors.Unauthenticated("This status page is private.", code="private_page")
        self._answer(req, resp, page, "json", _json)


class PublicFeed(PublicPageBase):
    def __init__(self, settings, cache: PageCache, kind: str):
        super().__init__(settings, cache)
        self.kind = kind

    def on_get(self, req, resp, name):
        """The page's incidents of the last 14 days as a feed (RSS 2.0 or Atom)."""
        page = self._page(name)
        if not self._admitted(req, page):
            raise errors.Unauthenticated("This status page is private.", code="private_page")
        address = _address(req)
        self._answer(req, resp, page, f"{self.kind} {address}",
                     lambda view: _feed(view, self.kind, address))


class PublicLogin(PublicPageBase):
    CUTS_BODY = False

    def on_post(self, req, resp, name):
        """A private page's password form: the right password sets the cookie that admits
        this browser (for 30 days, or until the password changes)."""
        page = self._page(name)
        password = _form(req).get("password", "")
        try:
            value = public.sign_in(page, password, client_ip=req.remote_addr,
                                   settings=self.settings)
        except errors.TooManyRequests:
            return self._message(req, resp, page, falcon.HTTP_429, "Too many tries",
                                 "Wait a minute before you try again.", error=True)
        except errors.Unauthenticated:
            return self._message(req, resp, page, falcon.HTTP_401, "This page is private",
                                 "That password is not right.", password_form=True, error=True)
        resp.set_cookie(public.cookie_name(page), value, max_age=public.ADMISSION_SECONDS,
                        path="/", secure=req.scheme == "https", http_only=True,
                        same_site="Lax")
        resp.status = falcon.HTTP_303
        resp.location = _base(req) or "/"


class PublicSubscribe(PublicPageBase):
    CUTS_BODY = False

    def on_post(self, req, resp, name):
        """The page's subscribe form: the address is asked to confirm (the same answer for
        a new, a pending and a confirmed one)."""
        page = self._page(name)
        if not self._admitted(req, page):
            return self._message(req, resp, page, falcon.HTTP_401, "This page is private",
                                 "Enter the page's password to see it.", password_form=True)
        try:
            subscribers.subscribe(page, "email", _form(req).get("email", ""),
                                  client_ip=req.remote_addr, settings=self.settings,
                                  now=clock.now())
        except errors.TooManyRequests:
            return self._message(req, resp, page, falcon.HTTP_429, "Too many tries",
                                 "Wait a while before you subscribe again.", back=True,
                                 error=True)
        except errors.Invalid as exc:
            return self._message(req, resp, page, falcon.HTTP_422, "Not subscribed",
                                 exc.message, back=True, error=True)
        self._message(req, resp, page, falcon.HTTP_200, "Check your inbox",
                      "If that address can be subscribed, a message asking you to confirm "
                      "is on its way to it.", back=True)


class SubscriberLink(PublicPageBase):
    """The links a subscriber's messages carry: a GET shows a button (a mail scanner that
    follows links changes nothing), its POST confirms or unsubscribes. A mail client's
    one-click unsubscribe (RFC 8058) posts to the same address."""
    CUTS_BODY = False
    WORDS = {"confirm": ("Confirm your subscription", "Confirm", "Subscription confirmed",
                         "You will be told when something changes."),
             "unsubscribe": ("Stop the notices", "Unsubscribe", "Unsubscribed",
                             "You will get no more notices of this page.")}

    def __init__(self, settings, cache: PageCache, action: str):
        super().__init__(settings, cache)
        self.action = action

    def on_get(self, req, resp, token):
        page = self._subscriber(token).page
        title, label, _, _ = self.WORDS[self.action]
        self._message(req, resp, page, falcon.HTTP_200, f"{title} to {page.page_name or page.name}",
                      base=f"/status/{page.subdomain}", action=req.path, action_label=label,
                      back=True)

    def on_post(self, req, resp, token):
        page = self._subscriber(token).page
        if self.action == "confirm":
            subscribers.confirm(token, settings=self.settings, now=clock.now())
        else:
            subscribers.unsubscribe(token, settings=self.settings)
        _, _, title, text = self.WORDS[self.action]
        self._message(req, resp, page, falcon.HTTP_200, title, text,
                      base=f"/status/{page.subdomain}", back=True)

    def _subscriber(self, token: str):
        return subscribers.subscriber_of(token, settings=self.settings)


def _json(view: dict) -> Rendered:
    return Rendered(json.dumps(view, separators=(",", ":")).encode(), falcon.MEDIA_JSON)


def _feed(view: dict, kind: str, address: str) -> Rendered:
    feed = FeedGenerator()
    page = view["page"]
    feed.id(address)
    feed.title(f"{page['name']} status")
    feed.link(href=address, rel="alternate")
    feed.description(f"Incidents of {page['name']}")
    feed.updated(view["updated_at"])
    for incident in reversed(view["history"]):
        entry = feed.add_entry()
        entry.id(f"{address}#incident-{incident['id']}")
        entry.title(f"{incident['name']} ({incident['updates'][0]['status']})")
        entry.link(href=address)
        entry.published(incident["created_at"])
        entry.updated(incident["updates"][0]["at"])
        lines = [f"{update['status'].capitalize()}: {_when(update['at'])}"
                 for update in incident["updates"]]
        entry.description("\n".join(
            ([incident["description"]] if incident["description"] else [])
            + [f"Affects: {', '.join(incident['components'])}"] + lines))
    if kind == "rss":
        return Rendered(feed.rss_str(pretty=False), "application/rss+xml; charset=utf-8")
    return Rendered(feed.atom_str(pretty=False), "application/atom+xml; charset=utf-8")


def _form(req) -> dict:
    body = req.bounded_stream.read(MAX_FORM_BYTES + 1)
    if len(body) > MAX_FORM_BYTES:
        raise errors.PayloadTooLarge(f"The form is larger than {MAX_FORM_BYTES} bytes.")
    try:
        return dict(urllib.parse.parse_qsl(body.decode("utf-8"), max_num_fields=10))
    except (UnicodeDecodeError, ValueError):
        raise errors.BadRequest("The form could not be read.", code="malformed_body") from None


def _base(req) -> str:
    """The page's address prefix: empty where the Host names the page, else /status/{page}."""
    return "" if getattr(req.context, "status_host", None) else "/status/" + \
        req.path.split("/")[2]


def _address(req) -> str:
    return f"{req.scheme}://{req.host}{(':%d' % req.port) if req.port not in (80, 443) else ''}" \
        f"{_base(req) or '/'}"


class StatusPageHost:
    """Serves a page at its own address: a request whose Host is `<subdomain>.<status
    domain>` or a page's own domain goes to `/status/{that page}` (its paths under it), while
    the API's own paths pass as they are."""
    PASS = ("/v1/", "/default/", "/api/", "/status/", "/subscribers/", "/badge/",
            "/openapi.json")

    def __init__(self, settings):
        self.settings = settings

    def process_request(self, req, resp):
        req.context.status_host = None
        if req.path.startswith(self.PASS):
            return
        name = public.page_for_host(req.host, self.settings)
        if name is not None:
            req.context.status_host = name
            req.path = f"/status/{name}" + ("" if req.path == "/" else req.path)


class ForgetPagesOnWrite:
    """Any write this process serves may change what a page shows: drop the rendered pages."""

    def __init__(self, cache: PageCache):
        self.cache = cache

    def process_response(self, req, resp, resource, req_succeeded):
        if req.method in ("POST", "PUT", "PATCH", "DELETE") and req_succeeded \
                and not req.path.startswith("/status/"):
            self.cache.forget()


def _branding(page) -> dict:
    """What the message pages show of a page (the same fields for a private one: its name and
    branding are not secret, its components are)."""
    return {"name": page.page_name or page.name, "logo": page.logo, "favicon": page.favicon,
            "dark_theme": page.dark_theme, "website_url": page.website_url,
            "privacy_url": page.privacy_url, "support_url": page.support_url,
            "remove_branding": page.remove_branding,
            "robots": ", ".join(page.robots_meta_contents or []) or None}
