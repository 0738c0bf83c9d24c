"""SVG status badges: a public status page's by its name."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.api.test_public_pages import app_with
from tests.api.test_status_pages import go_down
from tests.factories.accounts import bearer
from tests.factories.monitors import make_monitor
from tests.factories.organisations import make_cast, make_service
from tests.factories.statuspages import make_page

SVG = "{http://www.w3.org/2000/svg}"


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
