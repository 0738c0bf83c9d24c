"""What every endpoint shares: prefixes, error shapes, OpenAPI, health."""
from __future__ import annotations

import functools
import time

import pytest

from models import health
from workers.broker import ping
from tests.factories.accounts import bearer, make_customer, sign_in


def test_every_path_is_also_served_under_default(client, settings):
    customer = make_customer(settings)
    tokens = sign_in(settings, customer)
    plain = client.simulate_get(f"/v1/customer/{customer.id}", headers=bearer(tokens.access_token))
    prefixed = client.simulate_get(f"/default/v1/customer/{customer.id}",
                                   headers=bearer(tokens.access_token))
    assert plain.status_code == prefixed.status_code == 200
    assert plain.json == prefixed.json


@pytest.mark.parametrize("method, path, status, code", [
    ("GET", "/v1/nothing-here", 404, "not_found"),
    ("GET", "/v1/customer/not-a-uuid", 404, "not_found"),
    ("PUT", "/v1/auth", 405, "method_not_allowed"),
    ("GET", "/v1/auth", 405, "method_not_allowed"),
])
def test_framework_errors_have_the_json_error_shape(client, method, path, status, code):
    response = client.simulate_request(method, path)
    assert response.status_code == status
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert response.json["error"]["fields"] == {}


def test_openapi_documents_every_route_with_its_schemas(client, app):
    document = client.simulate_get("/openapi.json").json
    assert document["openapi"].startswith("3.")
    sign_up = document["paths"]["/v1/account"]["post"]
    schema_name = sign_up["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][schema_name.rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"name", "surname", "email", "password"}
    assert "security" not in sign_up
    assert document["paths"]["/v1/auth"]["delete"]["security"] == [{"bearer": []}]
    assert "/v1/customer/{customer_id}" in document["paths"]


def test_health_check_reports_database_broker_and_clock(client):
    response = client.simulate_get("/v1/health-check")
    assert response.status_code == 200
    body = response.json
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]
    assert "offset_seconds" in body["checks"]["clock"]


def test_health_check_lists_the_processes_clock_readings(client, settings):
    from tests.ntp_server import FakeNtpServer
    server = FakeNtpServer(offset_seconds=0.25).start()
    try:
        health.check_clock(settings.replace(ntp_server=server.address), role="worker.eu",
                           instance="host:1", at_start=True)
    finally:
        server.stop()
        from models import clock
        clock.set_offset(0.0)
    processes = client.simulate_get("/default/v1/health-check").json["checks"]["clock"]["processes"]
    assert [(p["role"], p["instance"]) for p in processes] == [("worker.eu", "host:1")]
    assert processes[0]["offset_seconds"] == pytest.approx(0.25, abs=0.2)


def test_health_check_is_on_the_gateway_too(settings, broker):
    import falcon.testing
    from api.gateway import create_gateway
    gateway = create_gateway(settings, broker_check=functools.partial(ping, broker))
    response = falcon.testing.TestClient(gateway).simulate_get("/v1/health-check")
    assert response.status_code == 200


def test_health_check_says_degraded_when_heartbeat_signals_wait_too_long(client, settings):
    if not settings.redis_url:
        assert "heartbeat_signals" not in client.simulate_get("/v1/health-check").json["checks"]
        return
    import redis
    from models.heartbeats.stream import STREAM
    stream = redis.Redis.from_url(settings.redis_url)
    try:
        body = client.simulate_get("/v1/health-check").json
        assert body["status"] == "ok" and body["checks"]["heartbeat_signals"]["ok"]
        # an entry written two minutes ago that no flusher stored
        stale = int(time.time() * 1000) - 120_000
        stream.xadd(STREAM, {"s": b"x"}, id=f"{stale}-0")
        response = client.simulate_get("/v1/health-check")
        check = response.json["checks"]["heartbeat_signals"]
        assert response.status_code == 200 and response.json["status"] == "degraded"
        assert not check["ok"] and check["waiting_entries"] == 1
        assert check["oldest_waiting_seconds"] == pytest.approx(120, abs=10)
    finally:
        stream.delete(STREAM)
