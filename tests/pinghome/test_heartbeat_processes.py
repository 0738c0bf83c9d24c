"""The gateway under gunicorn and the flusher in `pinghome worker`, as real processes on
Postgres and Redis (append-only): killing the flusher loses no signal the gateway answered."""
from __future__ import annotations

import concurrent.futures
import urllib.request

import pytest

from models.heartbeats.tables import Heartbeat, HeartbeatEvent
from models.organisations import Organisation, Team
from models.services import Service
from pinghome.localservers import free_port
from tests.polling import wait_until
from tests.processes import Process, add_heartbeat, own_stack, start_gateway

pytestmark = pytest.mark.own_servers
TABLES = [Organisation, Team, Service, Heartbeat, HeartbeatEvent]


@pytest.fixture
def stack(tmp_path):
    with own_stack(tmp_path, TABLES, appendonly=True, env={
            "PINGHOME_SECRET_KEY": "heartbeat-process-test-secret-0123456789"}) as found:
        yield found


def test_killing_the_flusher_loses_no_acknowledged_signal(stack):
    heartbeat = add_heartbeat()
    port = free_port()
    start_gateway(stack, port)
    first = Process.pinghome("worker", env=stack["env"], log_path=stack["dir"] / "worker-1.log")
    stack["processes"].append(first)
    first.wait_for_output("consuming")
    url = f"http://127.0.0.1:{port}/v1/heartbeat/{heartbeat.id}"

    def ping(n: int) -> int:
        with urllib.request.urlopen(f"{url}?message=n{n}", timeout=10) as response:
            return response.status

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        sent = pool.map(ping, range(3000))
        wait_until(lambda: HeartbeatEvent.select().count() > 0, timeout=30)
        first.kill()                                  # mid-stream, with batches in its hands
        answers = list(sent)
    assert answers == [200] * 3000
    killed_with = HeartbeatEvent.select().count()
    assert killed_with < 3000
    second = Process.pinghome("worker", env=stack["env"], log_path=stack["dir"] / "worker-2.log")
    stack["processes"].append(second)
    wait_until(lambda: HeartbeatEvent.select().count() == 3000, timeout=60,
               message="every acknowledged signal stored")
    messages = [m for (m,) in HeartbeatEvent.select(HeartbeatEvent.message).tuples()]
    assert sorted(messages) == sorted(f"n{n}" for n in range(3000))


def test_first_signals_of_many_heartbeats_at_once_are_looked_up_and_stored(stack):
    # each one's first signal misses the gateway's directory: concurrent Postgres look-ups
    heartbeats = [add_heartbeat() for _ in range(200)]
    port = free_port()
    start_gateway(stack, port)
    stack["processes"].append(Process.pinghome("worker", env=stack["env"],
                                               log_path=stack["dir"] / "worker.log"))

    def ping(heartbeat) -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/heartbeat/{heartbeat.id}",
                                    timeout=10) as response:
            return response.status

    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        assert list(pool.map(ping, heartbeats)) == [200] * 200
    wait_until(lambda: Heartbeat.select().where(Heartbeat.status == "up").count() == 200,
               timeout=60, message="every heartbeat up")
