"""The HTTP probe against real servers on loopback."""
from __future__ import annotations

import pytest

from workers.probes.http import HttpRequest, probe_http, probe_http_many


def test_a_response_is_read_with_its_timings(target):
    target.answers["/"] = (200, b'{"hello": "world"}', {"X-Served-By": "test"})
    result = probe_http(f"{target.url}/health", allow_private=True)
    assert result.ok and result.status_code == 200
    assert result.body == b'{"hello": "world"}'
    assert result.headers["x-served-by"] == "test"
    assert set(result.timings) == {"dns_ms", "connect_ms", "tls_ms", "first_byte_ms", "total_ms"}
    assert result.response_ms == result.timings["total_ms"] > 0


@pytest.mark.parametrize("status", [200, 301, 404, 503])
def test_any_status_is_an_answer_the_domain_judges(target, status):
    target.answers["/"] = (status, b"x", {"Location": "/elsewhere"} if status == 301 else {})
    result = probe_http(f"{target.url}/", allow_private=True, follow_redirects=False)
    assert result.ok and result.status_code == status


def test_redirects_are_followed_or_not(target):
    target.answers["/old"] = (302, b"", {"Location": "/new"})
    target.answers["/new"] = (200, b"arrived")
    followed = probe_http(f"{target.url}/old", allow_private=True)
    assert (followed.status_code, followed.body, followed.details["redirects"]) == (200, b"arrived", 1)
    kept = probe_http(f"{target.url}/old", allow_private=True, follow_redirects=False)
    assert kept.status_code == 302


def test_the_body_is_read_up_to_the_cap(target):
    target.answers["/big"] = (200, b"x" * 100_000)
    result = probe_http(f"{target.url}/big", allow_private=True, max_body_bytes=1000)
    assert result.ok and len(result.body) == 1000 and result.details["truncated"]


def test_method_headers_and_body_are_sent(target):
    probe_http(f"{target.url}/submit", method="POST", headers={"Authorization": "Bearer t"},
               body="a=1&b=2", allow_private=True)
    request = target.received("/submit")[0]
    assert (request.method, request.body) == ("POST", b"a=1&b=2")
    assert request.headers["authorization"] == "Bearer t"
    assert request.headers["user-agent"].startswith("Pinghome")


def test_a_slow_target_times_out(target):
    target.delays["/slow"] = 5
    result = probe_http(f"{target.url}/slow", allow_private=True, timeout=0.5)
    assert not result.ok and "timed out" in result.error
    target.released.set()


def test_a_closed_port_is_a_clear_failure():
    from pinghome.localservers import free_port
    result = probe_http(f"http://127.0.0.1:{free_port()}/", allow_private=True, timeout=2)
    assert not result.ok and "refused" in result.error


def test_private_targets_are_refused_unless_allowed(target):
    # the check runs on every connection curl opens (OPENSOCKETFUNCTION), redirect hops too
    assert "private address" in probe_http(f"{target.url}/", allow_private=False).error
    assert probe_http(f"{target.url}/", allow_private=True).ok


def test_tls_is_verified_against_the_trusted_cas(tls_target):
    trusted = probe_http(f"{tls_target.url}/", allow_private=True, ca_file=tls_target.ca_file)
    assert trusted.ok and trusted.timings["tls_ms"] > 0
    untrusted = probe_http(f"{tls_target.url}/", allow_private=True)
    assert not untrusted.ok and ("TLS" in untrusted.error or "certificate" in untrusted.error)
    skipped = probe_http(f"{tls_target.url}/", allow_private=True, verify_tls=False)
    assert skipped.ok


def test_many_requests_run_at_once_and_come_back_in_order(target):
    target.delays["/slow"] = 0.3
    requests = [HttpRequest(f"{target.url}/slow/{n}", allow_private=True) for n in range(20)]
    results = probe_http_many(requests, concurrency=20)
    assert [r.ok for r in results] == [True] * 20
    assert max(r.response_ms for r in results) < 20 * 300    # concurrent, not one after another
