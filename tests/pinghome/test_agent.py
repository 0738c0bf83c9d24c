"""`pinghome-agent` against the real gateway over HTTP on loopback: real psutil readings go in
and come back out of the metrics endpoint (73); a backlog survives the gateway being away; a
silent server goes down and a push brings it back, each change recorded and handed over."""
from __future__ import annotations

import datetime as dt
import functools
import json
import sys
import threading
import time
from pathlib import Path

import pytest

from api.gateway import create_gateway
from models.servers import reports
from models.servers.metrics import TYPES
from models.servers.tables import Server, ServerMetric
from models.state_changes import StateChange
from pinghome.agent import Agent, AgentRefused
from pinghome.localservers import free_port
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast, make_service
from tests.polling import wait_until
from tests.processes import Process, call
from tests.served import Served
from workers.broker import ping


class Gateway:
    """The gateway app served by waitress in this process (as `pinghome up` serves it), so
    the jobs it asks for reach the session's worker on either backend. Stops and starts
    again on the same port."""

    def __init__(self, settings, broker):
        self.app = create_gateway(settings, broker_check=functools.partial(ping, broker))
        self.port = free_port()
        self.url, self._server = f"http://127.0.0.1:{self.port}", None

    def start(self) -> "Gateway":
        self._server = Served(self.app, self.port, threads=4, ident="pinghome")
        return self

    def stop(self) -> None:
        self._server.close()


@pytest.fixture
def gateway(settings, broker):
    running = Gateway(settings, broker).start()
    yield running
    running.stop()


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="user")


@pytest.fixture
def server(client, cast) -> dict:
    """A new server monitor as its page shows its owner (with push key and agent command)."""
    service = make_service(cast.team)
    response = client.simulate_post("/v1/server-resource", headers=bearer(cast.alice_token),
                                     json={"service_id": str(service.id), "name": "db-1",
                                           "timezone": "Europe/Berlin"})
    assert response.status_code == 201
    return client.simulate_get(f"/v1/server-resource/{response.json['id']}",
                               headers=bearer(cast.alice_token)).json


def agent_for(gateway, server, **options) -> Agent:
    return Agent(gateway.url, server["id"], server["token"], **options)


def metrics(client, cast, server, **params) -> dict:
    response = client.simulate_get(f"/v1/server-resource/{server['id']}/metrics",
                                   params=params, headers=bearer(cast.bob_token))
    assert response.status_code == 200, response.json
    return response.json["data"]


def test_real_readings_pushed_by_the_agent_come_back_raw_and_in_buckets(client, cast, server,
                                                                        gateway):
    agent = agent_for(gateway, server, interval_seconds=0.2)
    stop = threading.Event()
    running = threading.Thread(target=agent.run, args=(stop,), daemon=True)
    running.start()
    try:
        wait_until(lambda: ServerMetric.select(ServerMetric.at).distinct().count() >= 3,
                   message="the agent's pushes did not arrive")
    finally:
        stop.set()
        running.join(5)
    raw = metrics(client, cast, server, interval="on-demand", limit=2)
    assert set(raw) == set(TYPES)
    cpu = raw["cpu-total-usage"]
    assert len(cpu) == 2 and cpu[0]["at"] > cpu[1]["at"]                  # newest first
    assert 0 <= cpu[0]["values"]["percent"] <= 100
    memory = raw["memory-usage"][0]["values"]
    assert 0 < memory["used"] <= memory["total"]
    assert set(raw["system-load-unified"][0]["values"]) == {"load1", "load5", "load15"}
    assert set(raw["network-usage-unified"][0]["values"]) == {"sent_bytes_per_s",
                                                              "recv_bytes_per_s"}
    assert raw["disk-usage-unified"][0]["values"]["total"] > 0
    sent = ServerMetric.select().where(ServerMetric.type == "cpu-total-usage").count()
    buckets = metrics(client, cast, server, interval="minute",
                      type="cpu-total-usage")["cpu-total-usage"]
    assert sum(b["count"] for b in buckets) == sent
    assert all(b["values"]["percent"]["avg"] <= b["values"]["percent"]["max"] for b in buckets)
    shown = client.simulate_get(f"/v1/server-resource/{server['id']}",
                                headers=bearer(cast.bob_token)).json
    assert (shown["status"], shown["push_interval_seconds"]) == ("up", 1)
    assert shown["last_report_at"] is not None


def test_the_agent_buffers_while_the_gateway_is_away_and_sends_the_backlog_on_return(
        client, cast, server, gateway):
    agent = agent_for(gateway, server, max_backlog=3, batch_size=2)
    assert agent.tick() == 1
    gateway.stop()
    for _ in range(5):
        time.sleep(0.005)      # readings are keyed by their millisecond: two in one are one
        assert agent.tick() == 0                # no exception: the readings wait
    assert len(agent.backlog) == 3              # bounded: the two oldest were dropped
    waiting = {dt.datetime.fromisoformat(sample["at"]) for sample in agent.backlog}
    gateway.start()
    assert agent.flush() == 3                   # oldest first, in batches of 2
    assert not agent.backlog
    stored = [dt.datetime.fromisoformat(point["at"]) for point in metrics(
        client, cast, server, type="cpu-total-usage")["cpu-total-usage"]]
    assert len(stored) == 4 and waiting <= set(stored)


def test_a_batch_sent_twice_is_stored_once(client, cast, server, gateway):
    agent = agent_for(gateway, server)
    agent.tick()
    first = ServerMetric.select().count()
    sample = {"at": "2026-03-02T10:00:00.000Z",
              "metrics": {"cpu-total-usage": {"percent": 12.5}}}
    for _ in range(2):
        assert agent._send([sample]) == "stored"
    assert ServerMetric.select().count() == first + 1


def test_a_silent_server_goes_down_and_a_push_brings_it_back(client, cast, server, gateway):
    agent = agent_for(gateway, server, interval_seconds=10)
    assert agent.tick() == 1
    came_up = StateChange.get(StateChange.to_status == "up")
    assert came_up.from_status == "pending"
    heard = Server.get_by_id(server["id"]).last_report_at
    assert Server.get_by_id(server["id"]).deadline_at == heard + dt.timedelta(seconds=60)

    assert reports.mark_silent(now=heard + dt.timedelta(seconds=59)) == 0
    assert reports.mark_silent(now=heard + dt.timedelta(seconds=60)) == 1
    assert reports.mark_silent(now=heard + dt.timedelta(seconds=61)) == 0    # once
    went_down = StateChange.get(StateChange.to_status == "down")
    assert (went_down.from_status, went_down.cause) == ("up", f"no report since "
                                                              f"{heard.isoformat()}")
    shown = client.simulate_get(f"/v1/server-resource/{server['id']}",
                                headers=bearer(cast.bob_token)).json
    assert shown["status"] == "down"
    wait_until(lambda: StateChange.get_by_id(went_down.id).rules_applied_at,
               message="the down change was not handed to the incident rules")

    assert agent.tick() == 1
    back = (StateChange.select().where(StateChange.to_status == "up")
            .order_by(StateChange.changed_at.desc()).first())
    assert (back.from_status, Server.get_by_id(server["id"]).status) == ("down", "up")
    wait_until(lambda: StateChange.get_by_id(back.id).rules_applied_at,
               message="the up change was not handed to the incident rules")
    assert StateChange.select().count() == 3


def test_the_silence_allowance_is_three_intervals_and_at_least_a_minute():
    assert reports.silence_allowance(10) == dt.timedelta(seconds=60)
    assert reports.silence_allowance(30) == dt.timedelta(seconds=90)


# -- what the gateway refuses --------------------------------------------------------------

def push(gateway, server_id, token, body) -> tuple[int, dict]:
    return call("POST", f"{gateway.url}/v1/server-resource/{server_id}/metrics", body,
                token=token)


GOOD = {"interval": 10, "samples": [{"at": "2026-03-02T10:00:00Z",
                                     "metrics": {"cpu-total-usage": {"percent": 1.0}}}]}


def test_a_wrong_key_is_a_401_and_an_unknown_server_a_404(server, gateway):
    assert push(gateway, server["id"], "not-the-key", GOOD)[0] == 401
    assert push(gateway, server["id"], None, GOOD)[0] == 401
    assert push(gateway, "00000000-0000-4000-8000-000000000000", server["token"], GOOD)[0] == 404
    assert ServerMetric.select().count() == 0
    with pytest.raises(AgentRefused):
        Agent(gateway.url, server["id"], "not-the-key").tick()


@pytest.mark.parametrize("body, field", [
    ({**GOOD, "samples": [{"at": "2026-03-02T10:00:00Z", "metrics": {"gpu-usage": {"x": 1}}}]},
     "samples.0.metrics.gpu-usage"),
    ({**GOOD, "samples": [{"at": "2026-03-02T10:00:00Z",
                           "metrics": {"cpu-total-usage": {"percent": 101}}}]},
     "samples.0.metrics.cpu-total-usage.percent"),
    ({**GOOD, "samples": [{"at": "2026-03-02T10:00:00", "metrics": GOOD["samples"][0]["metrics"]}]},
     "samples.0.at"),
    ({**GOOD, "samples": []}, "samples"),
    ({"samples": GOOD["samples"]}, "interval"),
    ({**GOOD, "samples": [{"at": "2099-01-01T00:00:00Z",
                           "metrics": GOOD["samples"][0]["metrics"]}]}, "samples"),
])
def test_a_bad_payload_is_a_422_naming_the_field(server, gateway, body, field):
    status, answer = push(gateway, server["id"], server["token"], body)
    assert status == 422, answer
    assert field in answer["error"]["fields"]
    assert ServerMetric.select().count() == 0


def test_an_oversized_payload_is_a_413(server, gateway, settings):
    sample = GOOD["samples"][0]
    body = {**GOOD, "samples": [sample] * (settings.max_body_bytes // len(json.dumps(sample)) + 1)}
    assert push(gateway, server["id"], server["token"], body)[0] == 413


def test_the_console_script_sends_one_sample(server, gateway, tmp_path):
    script = str(Path(sys.executable).parent / "pinghome-agent")
    process = Process([script, "--gateway", gateway.url, "--server", server["id"],
                       f"--token={server['token']}", "--once"], {}, tmp_path / "agent.log")
    try:
        assert process.wait_exit() == 0, process.output()
    finally:
        process.stop()
    assert ServerMetric.select().where(ServerMetric.type == "cpu-total-usage").count() == 1
