"""Endpoint 82 over real HTTP: the gateway served on loopback, its signals flushed from Redis
(services backend) or written straight to SQLite (embedded), then read back through the API."""
from __future__ import annotations

import concurrent.futures
import json
import urllib.error
import urllib.request

import pytest
import redis

from models.heartbeats.stream import SignalStream
from models.heartbeats.tables import Heartbeat, HeartbeatEvent
from pinghome.localservers import free_port
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast, make_service
from tests.polling import wait_until


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="manager")


@pytest.fixture
def heartbeat(client, cast):
    service = make_service(cast.team)
    response = client.simulate_post("/v1/heartbeat", json={
        "name": "Backup", "service_id": str(service.id), "interval": 60, "grace": 30,
        "max_run_seconds": 3600}, headers=bearer(cast.alice_token))
    return response.json


def send(url: str, method: str = "GET", *, query: str = "", body: bytes | None = None,
         content_type: str | None = None) -> tuple[int, dict, dict]:
    request = urllib.request.Request(url + query, data=body, method=method,
                                     headers={"User-Agent": "backup.sh/2",
                                              **({"Content-Type": content_type}
                                                 if content_type else {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, dict(response.headers), json.loads(raw) if raw else {}
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read() or b"{}")


def stored(count: int) -> list[HeartbeatEvent]:
    wait_until(lambda: HeartbeatEvent.select().count() >= count, timeout=20,
               message=f"{count} events stored")
    return list(HeartbeatEvent.select().order_by(HeartbeatEvent.received_at))


def status_of(heartbeat) -> str:
    return Heartbeat.get_by_id(heartbeat["id"]).status


def test_every_result_kind_by_get_post_and_head(gateway, heartbeat):
    url = f"{gateway}/v1/heartbeat/{heartbeat['id']}"
    assert send(url)[0] == 200
    assert send(url, query="?result=run&message=started")[0] == 200
    assert send(url, "POST", body=b'{"result": "complete", "message": "42 files"}',
                content_type="application/json")[0] == 200
    assert send(url, "HEAD")[0] == 200
    events = stored(4)
    assert [(e.result, e.method, e.message) for e in events] == [
        ("tick", "GET", None), ("run", "GET", "started"), ("complete", "POST", "42 files"),
        ("tick", "HEAD", None)]
    assert events[0].user_agent == "backup.sh/2" and events[0].ip == "127.0.0.1"
    assert events[2].duration_seconds is not None and status_of(heartbeat) == "up"
    assert send(url, "POST", body=b"result=fail&message=disk+full",
                content_type="application/x-www-form-urlencoded")[0] == 200
    wait_until(lambda: status_of(heartbeat) == "down", timeout=20)


def test_unknown_ids_bad_results_and_refused_methods(client, cast, gateway, heartbeat):
    status, _, body = send(f"{gateway}/v1/heartbeat/00000000-0000-4000-8000-000000000000")
    assert status == 404 and body["error"]["code"] == "not_found"
    assert send(f"{gateway}/v1/heartbeat/not-an-id")[0] == 404
    url = f"{gateway}/v1/heartbeat/{heartbeat['id']}"
    status, _, body = send(url, query="?result=exploded")
    assert status == 400 and "result" in body["error"]["fields"]
    client.simulate_put(f"/v1/heartbeat/{heartbeat['id']}", json={"methods": ["POST"]},
                        headers=bearer(cast.alice_token))
    status, headers, body = send(url)
    assert status == 405 and headers["Allow"] == "POST" and "POST" in body["error"]["message"]
    assert send(url, "POST", body=b"")[0] == 200
    assert send(url, "PUT", body=b"")[0] == 405


def test_an_id_written_otherwise_is_the_same_heartbeat(gateway, heartbeat):
    written = [heartbeat["id"].upper(), heartbeat["id"].replace("-", ""),
               "{%s}" % heartbeat["id"]]
    assert [send(f"{gateway}/v1/heartbeat/{text}")[0] for text in written] == [200] * 3
    assert [str(e.heartbeat_id) for e in stored(3)] == [heartbeat["id"]] * 3
    status, _, body = send(f"{gateway}/v1/heartbeat/{heartbeat['id']}0")
    assert status == 404 and body["error"]["code"] == "not_found"


def test_an_oversized_body_is_cut_not_refused(gateway, heartbeat):
    url = f"{gateway}/v1/heartbeat/{heartbeat['id']}"
    status, headers, _ = send(url, "POST", body=b"x" * 300_000, content_type="text/plain")
    assert status == 200 and headers["Pinghome-Body-Limit"] == "10240"
    assert len(stored(1)[0].message) == 10240


def test_messages_keep_every_character_postgres_can_hold(gateway, heartbeat):
    # Postgres text holds neither NUL nor a lone surrogate: replaced, not stalling a batch
    url = f"{gateway}/v1/heartbeat/{heartbeat['id']}"
    assert send(url, query="?message=a%09b%0Ac%5Cd%0D%00e")[0] == 200
    assert send(url, "POST", body="line 1\n\tC:\\tmp \\N\x00 é".encode(),
                content_type="text/plain")[0] == 200
    assert send(url, "POST", body=b'{"message": "half \\ud800 a pair"}',
                content_type="application/json")[0] == 200
    assert [e.message for e in stored(3)] == ["a\tb\nc\\d\r\ufffde",
                                              "line 1\n\tC:\\tmp \\N\ufffd é",
                                              "half ? a pair"]


def test_a_thousand_signals_sent_at_once_are_all_listed_back(client, cast, gateway, heartbeat):
    url = f"{gateway}/v1/heartbeat/{heartbeat['id']}"
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda n: send(url, query=f"?message=n{n}")[0], range(1000)))
    assert answers == [200] * 1000
    stored(1000)
    listed = client.simulate_get(f"/v1/heartbeat/{heartbeat['id']}/events?limit=1000",
                                 headers=bearer(cast.bob_token)).json["data"]
    assert sorted(e["message"] for e in listed) == sorted(f"n{n}" for n in range(1000))


def test_with_redis_unreachable_a_signal_is_refused_with_503_not_acknowledged(settings, heartbeat):
    import falcon.testing
    from api.pipeline import build_app
    from api.resources.heartbeat_signals import HeartbeatSignal
    from models.directory import Directory, uuid_text
    from models.heartbeats.operations import accepted_methods, all_accepted_methods
    from models.intake import StreamIntake
    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = build_app(settings, [("/v1/heartbeat/{heartbeat_id}",
                                HeartbeatSignal(
                                    Directory(accepted_methods, all_accepted_methods,
                                              canonical=uuid_text),
                                    StreamIntake(SignalStream(redis.Redis.from_url(dead)))))],
                    title="t")
    response = falcon.testing.TestClient(app).simulate_get(f"/v1/heartbeat/{heartbeat['id']}")
    assert response.status_code == 503 and "error" in response.json
