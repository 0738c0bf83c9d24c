"""Endpoint 107: a status page domain's CNAME, looked up in a DNS server on loopback."""
from __future__ import annotations

import functools

import falcon.testing
import pytest

from api.app import create_app
from tests.dns_server import DnsServer
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast
from workers.broker import ping


@pytest.fixture(scope="module")
def dns_server():
    server = DnsServer().start()
    yield server
    server.stop()


@pytest.fixture
def dns_client(settings, broker, dns_server):
    dns_server.clear()
    app = create_app(settings.replace(dns_servers=(dns_server.address,),
                                      dns_timeout_seconds=0.5),
                     broker_check=functools.partial(ping, broker))
    return falcon.testing.TestClient(app)


@pytest.fixture
def token(settings):
    return make_cast(settings).alice_token


def cname(client, domain, token):
    return client.simulate_get(f"/v1/domain/{domain}/cname", headers=bearer(token))


def test_a_domain_with_a_cname_to_our_host_is_configured(dns_client, dns_server, token):
    dns_server.cnames["status.shop.example"] = "status.pinghome.test"
    response = cname(dns_client, "Status.Shop.Example.", token)
    assert response.status_code == 200
    assert response.json == {"domain": "status.shop.example", "expected": "status.pinghome.test",
                             "found": "status.pinghome.test", "configured": True}


def test_a_cname_pointing_elsewhere_is_not_configured(dns_client, dns_server, token):
    dns_server.cnames["status.shop.example"] = "shop.other-host.example"
    answer = cname(dns_client, "status.shop.example", token).json
    assert (answer["found"], answer["configured"]) == ("shop.other-host.example", False)
    assert "status.pinghome.test" in answer["reason"]


@pytest.mark.parametrize("setup, reason", [
    (lambda server: None, "NXDOMAIN"),
    (lambda server: server.bare.add("status.shop.example"), "no CNAME"),
    (lambda server: setattr(server, "silent", True), "timed out"),
])
def test_a_dns_failure_answers_not_configured_with_a_reason(dns_client, dns_server, token,
                                                             setup, reason):
    setup(dns_server)
    response = cname(dns_client, "status.shop.example", token)
    assert response.status_code == 200
    assert (response.json["found"], response.json["configured"]) == (None, False)
    assert reason in response.json["reason"]


@pytest.mark.parametrize("domain", [
    "http:example.com", "example", "-bad.example.com", "bad-.example.com", "a..example.com",
    "exa_mple.com", "example.com:8080", "1.2.3.4", "x" * 64 + ".com",
    ".".join(["abcdefghi"] * 26),           # 259 characters
    "%C3%A9xample.com", "%00.example.com",
])
def test_a_malformed_domain_is_refused_with_422(dns_client, token, domain):
    response = cname(dns_client, domain, token)
    assert response.status_code == 422
    assert "domain" in response.json["error"]["fields"]


def test_the_cname_check_needs_a_token(dns_client):
    assert dns_client.simulate_get("/v1/domain/status.shop.example/cname").status_code == 401


def test_the_expected_target_defaults_to_status_of_the_public_host(settings):
    assert settings.replace(public_url="https://app.example.com").cname_target == \
        "status.app.example.com"
    assert settings.replace(status_cname_target="pages.example.net").cname_target == \
        "pages.example.net"
