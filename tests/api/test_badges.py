"""SVG status badges: a public status page's by its name, a monitor's and a heartbeat's at
signed addresses that members read from `/v1/.../badges`."""
from __future__ import annotations

import datetime as dt
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

import pytest

from models import clock
from models.heartbeats import ingest
from models.heartbeats.signals import Signal
from models.heartbeats.tables import Heartbeat
from models.monitors.tables import Monitor
from models.state_changes import StateChange
from tests.api.test_public_pages import app_with
from tests.api.test_status_pages import go_down
from tests.factories.accounts import bearer
from tests.factories.monitors import make_monitor
from tests.factories.organisations import make_cast, make_service
from tests.factories.statuspages import make_page

SVG = "{http://www.w3.org/2000/svg}"
NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


@pytest.fixture
def service(cast):
    return make_service(cast.team)


@pytest.fixture
def monitor(service):
    return make_monitor(service, name="Checkout API")


@pytest.fixture
def public(settings, broker):
    """The API without its render cache, so each answer shows the state of the moment."""
    return app_with(settings, broker, status_page_cache_seconds=0)


def said(response) -> tuple[str, str, str]:
    """The badge's label, message and message colour, read from the SVG."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.get("role") == "img"
    texts = [t.text for t in root.iter(f"{SVG}text") if t.get("aria-hidden") is None]
    colour = next(r.get("fill") for r in root.iter(f"{SVG}rect") if r.get("x"))   # the right
    assert root.findtext(f"{SVG}title") == root.get("aria-label") == f"{texts[0]}: {texts[1]}"
    return texts[0], texts[1], colour


def urls_of(client, token, kind: str, subject_id) -> dict:
    response = client.simulate_get(f"/v1/{kind}/{subject_id}/badges", headers=bearer(token))
    assert response.status_code == 200, response.json
    return response.json


def path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def test_a_page_badge_follows_its_components(public, cast, monitor):
    page = make_page(cast.alice, components=[{"name": "Checkout", "type": "resource",
                                              "resource_id": str(monitor.id)}])
    badge = public.simulate_get(f"/badge/status/{page.subdomain}.svg")
    assert said(badge) == ("status", "operational", "#4c1")
    assert badge.headers["cache-control"] == "public, max-age=60"
    again = public.simulate_get(f"/badge/status/{page.subdomain}.svg",
                                headers={"If-None-Match": badge.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    go_down(monitor)
    down = public.simulate_get(f"/badge/status/{page.subdomain}.svg")
    assert said(down) == ("status", "major outage", "#e05d44")
    assert down.headers["etag"] != badge.headers["etag"]


def test_a_page_badge_is_found_by_the_pages_own_domain_too(public, cast):
    page = make_page(cast.alice, domain="status.acme.example",
                     components=[{"name": "API", "type": "manual",
                                  "status": "partial_outage"}])
    assert said(public.simulate_get("/badge/status/status.acme.example.svg")) == \
        ("status", "partial outage", "#fe7d37")
    # at the page's own host the badge's path is the same
    assert said(public.simulate_get(f"/badge/status/{page.subdomain}.svg",
                                    host="status.acme.example"))[1] == "partial outage"


def test_a_private_disabled_or_unknown_pages_badge_is_not_found(public, cast, client):
    private = make_page(cast.alice, type="private", password="s3cret-Words")
    disabled = make_page(cast.alice)
    client.simulate_put(f"/v1/statuspage/{disabled.id}/status", json={"enabled": False},
                        headers=bearer(cast.alice_token))
    for name in (private.subdomain, disabled.subdomain, "no-such-page", "%00"):
        response = public.simulate_get(f"/badge/status/{name}.svg")
        assert response.status_code == 404, name
        assert response.json["error"]["code"] == "not_found"


def test_a_monitor_badge_shows_its_status_at_the_signed_address(public, cast, monitor,
                                                                settings):
    urls = urls_of(public, cast.bob_token, "resource", monitor.id)
    assert set(urls) == {"status", "uptime"}
    assert urls["status"].startswith(f"{settings.public_url}/badge/monitor/{monitor.id}/")
    assert urls["status"].endswith("/status.svg") and urls["uptime"].endswith("/uptime.svg")
    status = path_of(urls["status"])
    assert said(public.simulate_get(status)) == ("Checkout API", "pending", "#9f9f9f")
    go_down(monitor)
    assert said(public.simulate_get(status)) == ("Checkout API", "down", "#e05d44")
    Monitor.update(enabled=False).where(Monitor.id == monitor.id).execute()
    assert said(public.simulate_get(status))[1] == "paused"
    # no sign-in is needed, and a token changes nothing
    assert public.simulate_get(status, headers=bearer(cast.charlie_token)).status_code == 200


def test_a_monitor_in_its_maintenance_window_shows_maintenance(public, cast, service):
    monitor = make_monitor(service, maintenance_cron_expression="* * * * *",
                           maintenance_duration=5)
    status = path_of(urls_of(public, cast.alice_token, "resource", monitor.id)["status"])
    assert said(public.simulate_get(status))[1:] == ("maintenance", "#007ec6")


def down_for(kind: str, subject_id, seconds: float) -> None:
    """Up from before the 30 days, then down for `seconds` ending an hour before NOW."""
    back_up = NOW - dt.timedelta(hours=1)
    changes = [(NOW - dt.timedelta(days=40), "unknown", "up")]
    if seconds:
        changes += [(back_up - dt.timedelta(seconds=seconds), "up", "down"),
                    (back_up, "down", "up")]
    for at, before, after in changes:
        StateChange.create(subject_type=kind, subject_id=subject_id, from_status=before,
                           to_status=after, changed_at=at, trigger_key=uuid.uuid4().hex,
                           recorded_at=at)


@pytest.mark.parametrize("down_seconds, message, colour", [
    (0, "100%", "#4c1"),
    (2592 * 0.5, "99.95%", "#4c1"),           # 0.1% of 30 days is 2592 s
    (2592 * 5, "99.5%", "#97ca00"),
    (2592 * 20, "98%", "#a4a61d"),
    (2592 * 40, "96%", "#dfb317"),
    (2592 * 80, "92%", "#fe7d37"),
    (2592 * 200, "80%", "#e05d44"),
])
def test_a_monitor_uptime_badge_shows_its_30_days(public, cast, service, monkeypatch,
                                                   down_seconds, message, colour):
    monkeypatch.setattr(clock, "now", lambda: NOW)
    monitor = make_monitor(service, created_at=NOW - dt.timedelta(days=60))
    down_for("monitor", monitor.id, down_seconds)
    uptime = path_of(urls_of(public, cast.alice_token, "resource", monitor.id)["uptime"])
    assert said(public.simulate_get(uptime)) == ("uptime 30d", message, colour)


def test_an_uptime_badge_before_the_first_check_says_there_is_no_data(public, cast, monitor):
    uptime = path_of(urls_of(public, cast.alice_token, "resource", monitor.id)["uptime"])
    assert said(public.simulate_get(uptime))[1:] == ("no data", "#9f9f9f")


def test_heartbeat_badges_show_its_status_and_uptime(public, cast, service, monkeypatch):
    made = public.simulate_post("/v1/heartbeat", json={
        "name": "Nightly backup", "service_id": str(service.id), "interval": 3600},
        headers=bearer(cast.alice_token))
    assert made.status_code == 201, made.json
    heartbeat_id = made.json["id"]
    urls = urls_of(public, cast.bob_token, "heartbeat", heartbeat_id)
    status, uptime = path_of(urls["status"]), path_of(urls["uptime"])
    assert status.startswith(f"/badge/heartbeat/{heartbeat_id}/")
    assert said(public.simulate_get(status)) == ("Nightly backup", "waiting", "#9f9f9f")
    ingest.store([Signal(key=uuid.uuid4().hex, heartbeat_id=heartbeat_id, result="tick",
                         received_at=clock.now(), method="GET", message="", ip="192.0.2.7",
                         user_agent="cron/1.0")], now=clock.now())
    assert Heartbeat.get_by_id(heartbeat_id).status == "up"
    assert said(public.simulate_get(status)) == ("Nightly backup", "up", "#4c1")
    assert said(public.simulate_get(uptime)) == ("uptime 30d", "100%", "#4c1")
    monkeypatch.setattr(clock, "now", lambda: NOW)
    StateChange.delete().where(StateChange.subject_id == heartbeat_id).execute()
    down_for("heartbeat", heartbeat_id, 2592 * 5)
    assert said(public.simulate_get(uptime))[1] == "99.5%"


def test_a_tampered_signature_or_kind_is_not_found_like_an_unknown_id(public, cast, monitor):
    status = path_of(urls_of(public, cast.alice_token, "resource", monitor.id)["status"])
    signature = status.split("/")[4]
    flipped = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    unknown = public.simulate_get(status.replace(str(monitor.id), str(uuid.uuid4())))
    assert unknown.status_code == 404
    for tampered in (status.replace(signature, flipped), status.replace(signature, ""),
                     status.replace(signature, signature + "00"),
                     status.replace(signature, "é" * 32),
                     status.replace("/monitor/", "/heartbeat/"),
                     status.replace(str(monitor.id), str(uuid.uuid4()))):
        response = public.simulate_get(tampered)
        assert response.status_code == 404, tampered
        assert response.json == unknown.json


def test_another_organisation_gets_no_badge_addresses(public, cast, monitor, service):
    heartbeat = public.simulate_post("/v1/heartbeat", json={
        "name": "Job", "service_id": str(service.id)}, headers=bearer(cast.alice_token)).json
    for path in (f"/v1/resource/{monitor.id}/badges", f"/v1/heartbeat/{heartbeat['id']}/badges",
                 f"/v1/resource/{uuid.uuid4()}/badges"):
        response = public.simulate_get(path, headers=bearer(cast.charlie_token))
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == "not_found"
        assert public.simulate_get(path).status_code == 401


def test_names_are_escaped_in_the_svg(public, cast, service):
    monitor = make_monitor(service, name='<script>alert("x")</script> & co\x07')
    status = path_of(urls_of(public, cast.alice_token, "resource", monitor.id)["status"])
    response = public.simulate_get(status)
    assert b"<script" not in response.content
    assert b"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in response.content
    assert said(response)[0] == '<script>alert("x")</script> & co'


def test_a_long_name_is_cut_and_the_badge_widens_with_its_text(public, cast, service):
    short = make_monitor(service, name="API")
    long = make_monitor(service, name="A very long monitor name " * 4)
    answers = [public.simulate_get(path_of(urls_of(public, cast.alice_token, "resource",
                                                   m.id)["status"])) for m in (short, long)]
    widths = [float(ET.fromstring(a.content).get("width")) for a in answers]
    assert widths[0] < 100 < 250 < widths[1] < 350
    label = said(answers[1])[0]
    assert len(label) == 40 and label.endswith("…")
