"""The network policy holds every outbound request, on the address each connection actually
uses: chat messages that Apprise sends and redirects on its own, webhooks, names that resolve
inward, and IPv6 addresses that wrap a private IPv4. A refusal fails a delivery for good."""
from __future__ import annotations

import os

import pytest
import requests

from models import clock, outbox
from models.channels import NotificationChannel
from models.outbox import Delivery
from tests.factories.accounts import make_customer
from tests.factories.organisations import first_team
from tests.http_sink import HttpSink
from tests.jobs import held_jobs
from workers import netpolicy, notifiers

PUBLIC_STAND_IN = "127.0.0.2"     # a loopback address the tests count as a public host


@pytest.fixture
def strict(settings, monkeypatch):
    """The distributed form's policy, with `PUBLIC_STAND_IN` taken as a public address."""
    real = netpolicy.is_public
    monkeypatch.setattr(netpolicy, "is_public",
                        lambda address: address == PUBLIC_STAND_IN or real(address))
    return settings.replace(allow_private_targets=False)


@pytest.fixture
def inner():
    """A server on the private side, which nothing may reach."""
    sink = HttpSink().start()
    yield sink
    sink.stop()


def deliver_over(settings, strict, type: str, value: str) -> Delivery:
    team = first_team(make_customer(settings))
    now = clock.now()
    channel = NotificationChannel.create(team=team, type=type, value=value, priority=1,
                                         verified_at=now, created_at=now, updated_at=now)
    with held_jobs():
        row = outbox.queue(key=f"test:{channel.id}", channel=channel, kind="test",
                           subject="Test", body="A test message", now=now)
    outbox.deliver(str(row.id), transport=lambda m: notifiers.send(m, settings=strict),
                   settings=strict, now=now)
    return Delivery.get_by_id(row.id)


def test_a_teams_message_redirected_to_a_private_address_is_refused_for_good(settings, strict,
                                                                           inner, tmp_path,
                                                                           monkeypatch):
    outside = HttpSink(tls=True, host=PUBLIC_STAND_IN).start()
    bundle = tmp_path / "ca.pem"
    outside.ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setitem(os.environ, "REQUESTS_CA_BUNDLE", str(bundle))
    outside.answers["/workflows/"] = (307, b"", {"Location": f"{inner.url}/stolen"})
    try:
        delivery = deliver_over(settings, strict, "msteams",
                                f"{outside.url}/workflows/643e69f83c8944438d68119179a10a64/"
                                "triggers/manual/paths/invoke?api-version=2016-06-01&sig=K")
    finally:
        outside.stop()
    assert len(outside.received("/workflows/")) == 1           # the public hop was made ...
    assert inner.received() == []                              # ... the private one was not
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "may not reach" in delivery.last_error


def test_a_webhook_to_a_name_that_resolves_inward_is_refused_for_good(settings, strict, inner):
    delivery = deliver_over(settings, strict, "webhook", f"http://localhost:{inner.port}/hook")
    assert inner.received() == []
    assert (delivery.status, delivery.attempts) == ("failed", 1)


def test_a_library_making_its_own_requests_outside_any_policy_gets_the_strict_one(inner):
    with pytest.raises(requests.ConnectionError, match="may not reach"):
        requests.get(f"{inner.url}/anything", timeout=5)
    assert inner.received() == []
    with netpolicy.policy(allow_private=True):
        assert requests.get(f"{inner.url}/anything", timeout=5).status_code == 200


@pytest.mark.parametrize("address, public", [
    ("8.8.8.8", True), ("2606:4700::1111", True),
    ("127.0.0.1", False), ("10.1.2.3", False), ("169.254.169.254", False), ("::1", False),
    ("::ffff:10.0.0.1", False),                  # IPv4-mapped
    ("2002:7f00:1::1", False),                   # 6to4 around 127.0.0.1
    ("2002:a9fe:a9fe::1", False),                # 6to4 around the metadata address
    ("2002:808:808::1", True),                   # 6to4 around 8.8.8.8
    ("fec0::1", False), ("fed0:1::2", False),    # site-local
    ("64:ff9b::a00:1", False),                   # NAT64 around 10.0.0.1
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),   # Teredo, client 127.0.0.1
])
def test_addresses_are_public_only_when_nothing_they_wrap_is_private(address, public):
    assert netpolicy.is_public(address) is public
