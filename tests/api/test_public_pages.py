"""The public status page: HTML and JSON at `/status/{page}`, at `<subdomain>.<status domain>`
and at a page's own domain; private pages behind a password or an address list; feeds; the
render cache."""
from __future__ import annotations

import functools
import xml.etree.ElementTree as ET

import falcon.testing
import pytest

from models import clock
from models.incidents import lifecycle
from models.statuspages.tables import StatusPage
from tests.api.test_status_pages import create, go_down, seed_body
from tests.factories.accounts import bearer
from tests.factories.monitors import make_monitor
from tests.factories.organisations import caller_of, make_cast, make_service
from tests.factories.statuspages import first_setting, make_page


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


@pytest.fixture
def monitor(cast):
    return make_monitor(make_service(cast.team), name="Checkout API")


def app_with(settings, broker, **changes):
    from api.app import create_app
    from workers.broker import ping
    return falcon.testing.TestClient(create_app(
        settings.replace(**changes), broker_check=functools.partial(ping, broker)))


@pytest.fixture
def public(settings, broker):
    """The API without its render cache, with pages also at `<subdomain>.status.test`."""
    return app_with(settings, broker, status_page_cache_seconds=0, status_domain="status.test")


def page_of(cast, monitor, **fields):
    body = {"name": "Acme", "page_name": "Acme Cloud", "subdomain": f"acme-{monitor.id.hex[:8]}",
            "components": [{"name": "Checkout", "type": "resource",
                            "resource_id": str(monitor.id)}],
            "groups": [{"name": "Backoffice",
                        "components": [{"name": "Admin", "type": "manual",
                                        "status": "degraded_performance"}]}]}
    body.update(fields)
    return make_page(cast.alice, **{k: v for k, v in body.items() if k != "components"},
                     components=body["components"])


def summary(client, page, **kwargs):
    return client.simulate_get(f"/status/{page.subdomain}/summary.json", **kwargs)


def test_the_page_shows_components_groups_and_their_status_as_html_and_json(public, cast,
                                                                            monitor):
    page = page_of(cast, monitor, robots_meta_contents=["noindex", "nofollow"],
                   website_url="https://acme.example/")
    answer = summary(public, page)
    assert answer.status_code == 200, answer.json
    body = answer.json
    assert body["status"] == "degraded_performance"
    assert body["page"]["name"] == "Acme Cloud"
    [checkout] = body["components"]
    assert checkout["name"] == "Checkout" and checkout["status"] == "operational"
    assert len(checkout["days"]) == 90
    [group] = body["groups"]
    assert group["name"] == "Backoffice" and group["status"] == "degraded_performance"
    html = public.simulate_get(f"/status/{page.subdomain}")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert '<meta name="robots" content="noindex, nofollow">' in html.text
    assert "Acme Cloud" in html.text and "Degraded performance" in html.text
    assert 'href="https://acme.example/"' in html.text
    assert "<script" not in html.text                       # readable with no JavaScript
    assert public.simulate_get(f"/status/{page.subdomain}",
                               headers={"Accept": "application/json"}).json["status"] \
        == "degraded_performance"


def test_a_monitor_going_down_shows_as_a_major_outage(public, cast, monitor):
    page = page_of(cast, monitor)
    go_down(monitor)
    body = summary(public, page).json
    assert body["status"] == "major_outage" and body["headline"] == "Major outage"
    assert body["components"][0]["status"] == "major_outage"
    html = public.simulate_get(f"/status/{page.subdomain}").text
    assert 'data-status="major_outage"' in html


def test_an_incident_naming_a_component_is_shown_open_then_in_the_history(public, cast,
                                                                         monitor):
    page = page_of(cast, monitor)
    action = {"type": "trigger-alerts", "settings": [first_setting(page)]}
    incident = lifecycle.create_incident(
        caller_of(cast.alice), cast.team.id,
        {"name": "Payments <b>slow</b>", "urgency": "high", "description": "We look into it",
         "actions": [action]}, now=clock.now())
    body = summary(public, page).json
    [shown] = body["incidents"]
    assert shown["name"] == "Payments <b>slow</b>" and shown["components"] == ["Checkout"]
    assert shown["updates"][0]["status"] == "investigating"
    html = public.simulate_get(f"/status/{page.subdomain}").text
    assert "Payments &lt;b&gt;slow&lt;/b&gt;" in html and "<b>slow" not in html
    lifecycle.move(caller_of(cast.alice), incident.id, "resolved", now=clock.now())
    body = summary(public, page).json
    assert body["incidents"] == [] and body["history"][0]["status"] == "resolved"
    assert body["history"][0]["updates"][0]["status"] == "resolved"


def test_every_user_field_is_escaped(public, cast, monitor):
    page = page_of(cast, monitor, page_name='<script>alert("x")</script>',
                   description="<img src=x onerror=alert(1)>",
                   components=[{"name": "<script>bad()</script>", "type": "manual"}],
                   groups=[{"name": "<i>g</i>", "components": []}])
    html = public.simulate_get(f"/status/{page.subdomain}").text
    assert "<script" not in html and "<img src=x" not in html and "<i>g</i>" not in html
    assert "&lt;script&gt;bad()&lt;/script&gt;" in html


def test_pages_are_served_at_their_subdomain_of_the_status_domain_and_their_own_domain(
        public, cast, monitor):
    page = page_of(cast, monitor, domain="status.acme.example")
    for host in (f"{page.subdomain}.status.test", "status.acme.example", "Status.Acme.Example."):
        html = public.simulate_get("/", host=host)
        assert html.status_code == 200, (host, html.text)
        assert "Acme Cloud" in html.text and 'href="/feed.atom"' in html.text
        assert public.simulate_get("/summary.json", host=host).json["page"]["id"] == str(page.id)
    # the API's own paths pass whatever the host
    assert public.simulate_get("/v1/health-check", host="status.acme.example").status_code \
        in (200, 503)
    assert public.simulate_get("/", host="nothing.status.test").status_code == 404
    assert public.simulate_get("/", host="a.b.status.test").status_code == 404


def test_a_disabled_or_unknown_page_is_not_found(public, cast, monitor, client):
    page = page_of(cast, monitor)
    client.simulate_put(f"/v1/statuspage/{page.id}/status", json={"enabled": False},
                        headers=bearer(cast.alice_token))
    assert StatusPage.get_by_id(page.id).enabled is False
    assert summary(public, page).status_code == 404
    assert public.simulate_get(f"/status/{page.subdomain}").status_code == 404
    assert public.simulate_get("/status/no-such-page/summary.json").status_code == 404


def test_a_private_page_shows_nothing_without_its_password(public, cast, monitor):
    page = page_of(cast, monitor, type="private", password="s3cret-Words")
    html = public.simulate_get(f"/status/{page.subdomain}")
    assert html.status_code == 401
    assert 'type="password"' in html.text and "Checkout" not in html.text
    assert summary(public, page).status_code == 401
    assert public.simulate_get(f"/status/{page.subdomain}/feed.atom").status_code == 401
    wrong = public.simulate_post(f"/status/{page.subdomain}/login", body="password=nope",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert wrong.status_code == 401 and "not right" in wrong.text and "Checkout" not in wrong.text
    right = public.simulate_post(f"/status/{page.subdomain}/login", body="password=s3cret-Words",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert right.status_code == 303 and right.headers["location"] == f"/status/{page.subdomain}"
    cookie = right.cookies[f"statuspage-{page.id}"]
    assert cookie.http_only
    admitted = public.simulate_get(f"/status/{page.subdomain}",
                                   cookies={cookie.name: cookie.value})
    assert admitted.status_code == 200 and "Checkout" in admitted.text
    assert "private" in admitted.headers["cache-control"]
    # a forged or another page's cookie admits nobody
    assert summary(public, page, cookies={cookie.name: cookie.value + "x"}).status_code == 401
    other = page_of(cast, make_monitor(make_service(cast.team)), type="private",
                    password="another-Pass1")
    assert summary(public, other, cookies={f"statuspage-{other.id}": cookie.value}) \
        .status_code == 401
    # a new password voids the cookies the old one earned
    cast_client_put = public.simulate_put(
        f"/v1/statuspage/{page.id}", json={"update_password": True, "password": "n3w-Words"},
        headers=bearer(cast.alice_token))
    assert cast_client_put.status_code == 200, cast_client_put.json
    assert summary(public, page, cookies={cookie.name: cookie.value}).status_code == 401


def test_wrong_passwords_are_rate_limited(settings, broker, cast, monitor):
    client = app_with(settings, broker, status_page_cache_seconds=0,
                      status_password_rate_limit="3/minute")
    page = page_of(cast, monitor, type="private", password="s3cret-Words")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    codes = [client.simulate_post(f"/status/{page.subdomain}/login", body="password=no",
                                  headers=form, remote_addr="198.51.100.7").status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    # even the right password waits out the limit
    assert client.simulate_post(f"/status/{page.subdomain}/login", body="password=s3cret-Words",
                                headers=form, remote_addr="198.51.100.7").status_code == 429


def test_a_private_page_admits_its_addresses(public, cast, monitor):
    page = page_of(cast, monitor, type="private", ip_addresses=["203.0.113.0/24"])
    assert summary(public, page, remote_addr="203.0.113.9").status_code == 200
    assert summary(public, page, remote_addr="198.51.100.1").status_code == 401
    assert summary(public, page, remote_addr="2001:db8::1").status_code == 401


def test_feeds_list_the_incidents(public, cast, monitor):
    page = page_of(cast, monitor)
    lifecycle.create_incident(
        caller_of(cast.alice), cast.team.id,
        {"name": "Checkout errors & timeouts", "urgency": "high",
         "actions": [{"type": "trigger-alerts", "settings": [first_setting(page)]}]},
        now=clock.now())
    rss = public.simulate_get(f"/status/{page.subdomain}/feed.rss")
    assert rss.status_code == 200 and rss.headers["content-type"].startswith(
        "application/rss+xml")
    [item] = ET.fromstring(rss.content).findall("./channel/item")
    assert item.findtext("title") == "Checkout errors & timeouts (investigating)"
    atom = public.simulate_get(f"/status/{page.subdomain}/feed.atom")
    entries = ET.fromstring(atom.content).findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 1


def test_answers_carry_an_etag_and_are_cached_until_a_write(settings, broker, cast, monitor):
    client = app_with(settings, broker, status_page_cache_seconds=60)
    page = page_of(cast, monitor)
    first = summary(client, page)
    assert "public" in first.headers["cache-control"]
    again = summary(client, page, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    go_down(monitor)                   # another process's change: the cached answer stays
    assert summary(client, page).json["status"] == first.json["status"]
    # a write through this process drops what it rendered
    client.simulate_put(f"/v1/statuspage/{page.id}", json={"description": "Now changed"},
                        headers=bearer(cast.alice_token))
    changed = summary(client, page).json
    assert changed["status"] == "major_outage" and changed["page"]["description"] == \
        "Now changed"


def test_the_seed_page_is_served(public, cast, monitor):
    response = create(public, cast.alice_token, seed_body(monitor, type="public"))
    assert response.status_code == 201, response.json
    html = public.simulate_get("/status/status")
    assert html.status_code == 200 and '<meta name="robots" content="index">' in html.text
    assert "Powered by Pinghome" not in html.text           # remove_branding
