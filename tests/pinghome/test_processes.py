"""The real processes, end to end: `pinghome up` on its embedded default; gunicorn, worker and
scheduler on Postgres and Redis; restarts of both servers; leader take-over; refusals to start."""
from __future__ import annotations

import http.client
import os
import re
import sys
import urllib.request
from pathlib import Path

import pytest

from pinghome.localservers import Postgres, Redis, free_port
from tests.ntp_server import FakeNtpServer
from tests.polling import wait_until
from tests.processes import Process, call, wait_http
from tests.smtp_sink import SmtpSink

SIGN_UP = {"name": "Ada", "surname": "Lovelace", "password": "analytical-engine-1"}


def walk_the_account_flow(api: str, email: str, read_code) -> None:
    """What the README's first command promises: sign up, confirm with the mailed code, sign
    in, call an authenticated endpoint, sign out."""
    status, account = call("POST", f"{api}/v1/account", {**SIGN_UP, "email": email})
    assert status == 201, account
    code = read_code(email)
    status, confirmed = call("PATCH", f"{api}/v1/account", {"email": email,
                                                            "confirmation_code": code})
    assert status == 200 and confirmed["confirmed"], confirmed
    status, signed_in = call("POST", f"{api}/v1/auth", {"email": email,
                                                        "password": SIGN_UP["password"]})
    assert status == 200, signed_in
    token = signed_in["access_token"]
    status, profile = call("GET", f"{api}/v1/customer/{account['id']}", token=token)
    assert status == 200 and profile["email"] == email
    assert call("DELETE", f"{api}/v1/auth", token=token)[0] == 200
    assert call("GET", f"{api}/v1/customer/{account['id']}", token=token)[0] == 401


def test_pinghome_up_serves_the_whole_flow_with_no_servers_installed(tmp_path):
    port, gateway_port = free_port(), free_port()
    up = Process.pinghome("up", env={"PINGHOME_DATA_DIR": str(tmp_path / "var"),
                                     "PORT": str(port), "GATEWAY_PORT": str(gateway_port),
                                     "PINGHOME_NTP_SERVER": "off"},
                          log_path=tmp_path / "up.log")
    try:
        up.wait_for_output("pinghome is up")
        api = f"http://127.0.0.1:{port}"

        def code_from_log(email):
            return up.wait_for_output(rf"mail .*to {re.escape(email)}:[^\n]*\n(?:.*\n)*?.*code is (\d{{6}})").group(1)

        walk_the_account_flow(api, "ada@example.com", code_from_log)
        assert call("GET", f"http://127.0.0.1:{gateway_port}/v1/health-check")[0] == 200
        assert (tmp_path / "var" / "pinghome.db").exists()
    finally:
        up.stop()
    assert up.popen.returncode == 0, up.output()


@pytest.fixture(scope="module")
def distributed(tmp_path_factory):
    """Postgres, Redis and an SMTP sink of its own (the test restarts them), migrated."""
    postgres, redis_server, sink = Postgres().start(), Redis().start(), SmtpSink().start()
    directory = tmp_path_factory.mktemp("distributed")
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis_server.url, "SMTP_URL": sink.url,
           "PINGHOME_SECRET_KEY": "distributed-test-secret-key-0123456789",
           "PINGHOME_NTP_SERVER": "off", "PINGHOME_DATA_DIR": str(directory),
           "PINGHOME_REGIONS": "eu-central-1,us-east-1"}
    migrate = Process.pinghome("migrate", env=env, log_path=directory / "migrate.log")
    assert migrate.wait_exit() == 0, migrate.output()
    from models.db import MIGRATIONS_DIR
    assert f"applied {len(list(MIGRATIONS_DIR.glob('[0-9]*.py')))} migration(s)" in migrate.output()
    again = Process.pinghome("migrate", env=env, log_path=directory / "migrate-again.log")
    assert again.wait_exit() == 0 and "applied 0 migration(s)" in again.output()
    yield {"postgres": postgres, "redis": redis_server, "sink": sink, "env": env,
           "dir": directory}
    sink.stop()
    redis_server.destroy()
    postgres.destroy()


@pytest.fixture(scope="module")
def cluster(distributed):
    """gunicorn (api), a general worker, a region worker and the scheduler."""
    env, directory = distributed["env"], distributed["dir"]
    port = free_port()
    processes = [
        Process.gunicorn("pinghome.wsgi:api", port, env=env, log_path=directory / "web.log"),
        Process.pinghome("worker", env=env, log_path=directory / "worker.log"),
        Process.pinghome("worker", "--region", "eu-central-1", env=env,
                         log_path=directory / "worker-eu.log"),
        Process.pinghome("scheduler", env=env, log_path=directory / "scheduler.log"),
    ]
    api = f"http://127.0.0.1:{port}"
    wait_http(f"{api}/v1/health-check")
    processes[1].wait_for_output("consuming default, notifications")
    processes[2].wait_for_output("consuming probes.eu-central-1")
    processes[3].wait_for_output("became leader")
    yield {"api": api, "processes": processes}
    for process in processes:
        process.stop()


def test_the_distributed_form_serves_the_flow_with_mail_over_smtp(distributed, cluster):
    sink = distributed["sink"]

    def code_from_mail(email):
        return re.search(r"\b(\d{6})\b", sink.wait_for(email)[-1].body).group(1)

    walk_the_account_flow(cluster["api"], "grace@example.com", code_from_mail)


def test_a_second_scheduler_stands_by_and_takes_over_from_a_killed_leader(distributed, cluster):
    env, directory = distributed["env"], distributed["dir"]
    leader = cluster["processes"][3]   # runs before the tests that restart Redis
    led = leader.output()
    assert "became leader" in led and "lost the leader lock" not in led
    standby = Process.pinghome("scheduler", env=env, log_path=directory / "standby.log")
    try:
        standby.wait_for_output("scheduler .* starting")
        assert "became leader" not in standby.output()
        leader.kill()
        standby.wait_for_output("became leader", timeout=15)
    finally:
        standby.stop()


def test_an_oversized_chunked_body_is_refused_over_real_http(cluster):
    host, port = cluster["api"].removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/v1/account")
    connection.putheader("Transfer-Encoding", "chunked")
    connection.putheader("Content-Type", "application/json")
    connection.endheaders()
    payload = b"{\"name\": \"" + b"x" * 300_000 + b"\"}"
    for start in range(0, len(payload), 65536):
        chunk = payload[start:start + 65536]
        connection.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    connection.send(b"0\r\n\r\n")
    response = connection.getresponse()
    assert response.status == 413
    assert b"body_too_large" in response.read()


def test_the_procfile_starts_every_role_of_the_distributed_form(distributed, tmp_path):
    port, gateway_port = free_port(), free_port()
    honcho = Process([sys.executable, "-m", "honcho", "start", "-f", "Procfile", "-p", str(port)],
                     env={**distributed["env"], "GATEWAY_PORT": str(gateway_port),
                          "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"},
                     log_path=tmp_path / "honcho.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/v1/health-check")
        assert call("GET", f"http://127.0.0.1:{port}/v1/health-check")[0] == 200
        assert call("GET", f"http://127.0.0.1:{gateway_port}/v1/health-check")[0] == 200
        for base_port, role in ((port, "web"), (gateway_port, "gateway")):   # multiprocess
            with urllib.request.urlopen(f"http://127.0.0.1:{base_port}/metrics") as answer:
                assert b"pinghome_monitors{" in answer.read()
            assert (Path(distributed["dir"]) / "metrics" / role).is_dir()
        for line in ("worker.1 .*consuming default, notifications",
                     "worker_eu_central_1.1 .*consuming probes.eu-central-1",
                     "worker_us_east_1.1 .*consuming probes.us-east-1",
                     "scheduler.1 .*scheduler .* starting"):
            honcho.wait_for_output(line)
    finally:
        honcho.stop()


def test_health_turns_503_while_redis_is_down_and_recovers_with_it(distributed, cluster):
    api = cluster["api"]
    assert call("GET", f"{api}/v1/health-check")[0] == 200
    distributed["redis"].kill()
    try:
        status, body = call("GET", f"{api}/v1/health-check")
        assert status == 503
        assert body["checks"]["broker"]["ok"] is False and body["checks"]["database"]["ok"]
    finally:
        distributed["redis"].start()
    wait_until(lambda: call("GET", f"{api}/v1/health-check")[0] == 200, timeout=30)
    sink = distributed["sink"]
    assert call("POST", f"{api}/v1/account",
                {**SIGN_UP, "email": "after-redis@example.com"})[0] == 201
    assert sink.wait_for("after-redis@example.com", timeout=60)


def test_health_turns_503_while_postgres_is_down_and_recovers_with_it(distributed, cluster):
    api = cluster["api"]
    distributed["postgres"].stop()
    try:
        status, body = call("GET", f"{api}/v1/health-check")
        assert status == 503 and body["checks"]["database"]["ok"] is False
        status, body = call("POST", f"{api}/v1/auth", {"email": "x@example.com",
                                                       "password": "whatever-1"})
        assert status == 503 and body["error"]["code"] == "unavailable"
    finally:
        distributed["postgres"].restart()
    wait_until(lambda: call("GET", f"{api}/v1/health-check")[0] == 200, timeout=30)
    sink = distributed["sink"]
    assert call("POST", f"{api}/v1/account",
                {**SIGN_UP, "email": "after-postgres@example.com"})[0] == 201
    assert sink.wait_for("after-postgres@example.com", timeout=60)


def test_an_embedded_scheduler_stands_by_on_the_file_lock(tmp_path):
    env = migrated(tmp_path)
    first = Process.pinghome("scheduler", env=env, log_path=tmp_path / "first.log")
    second = None
    try:
        first.wait_for_output("became leader")
        second = Process.pinghome("scheduler", env=env, log_path=tmp_path / "second.log")
        second.wait_for_output("scheduler .* starting")
        assert "became leader" not in second.output()
        first.kill()
        second.wait_for_output("became leader", timeout=15)
    finally:
        first.stop()
        if second:
            second.stop()


def migrated(tmp_path, **env) -> dict:
    """The environment of an embedded form whose database `pinghome migrate` made."""
    env = {"PINGHOME_DATA_DIR": str(tmp_path), "PINGHOME_NTP_SERVER": "off", **env}
    assert Process.pinghome("migrate", env=env, log_path=tmp_path / "migrate.log").wait_exit() == 0
    return env


def test_a_worker_refuses_to_start_when_its_clock_is_too_far_off(tmp_path):
    ntp = FakeNtpServer(offset_seconds=30).start()
    try:
        worker = Process.pinghome("worker", env=migrated(
            tmp_path, PINGHOME_NTP_SERVER=ntp.address, PINGHOME_MAX_CLOCK_OFFSET_SECONDS="5"),
            log_path=tmp_path / "worker.log")
        try:
            assert worker.wait_exit() == 3
            assert "refusing to start" in worker.output()
        finally:
            worker.stop()
    finally:
        ntp.stop()


def test_a_worker_starts_with_a_warning_when_ntp_is_unreachable(tmp_path):
    env = migrated(tmp_path, PINGHOME_NTP_SERVER=f"127.0.0.1:{free_port()}",
                   PINGHOME_NTP_TIMEOUT_SECONDS="0.3")
    worker = Process.pinghome("worker", env=env, log_path=tmp_path / "worker.log")
    try:
        worker.wait_for_output("unreachable")
        worker.wait_for_output("consuming")
    finally:
        worker.stop()


def test_a_worker_waits_for_the_schema_and_starts_once_it_is_migrated(tmp_path):
    env = {"PINGHOME_DATA_DIR": str(tmp_path), "PINGHOME_NTP_SERVER": "off"}
    worker = Process.pinghome("worker", env=env, log_path=tmp_path / "worker.log")
    try:
        worker.wait_for_output("run `pinghome migrate`")
        assert Process.pinghome("migrate", env=env,
                                log_path=tmp_path / "migrate.log").wait_exit() == 0
        worker.wait_for_output("consuming default, notifications")
    finally:
        worker.stop()
    assert worker.popen.returncode == 0


@pytest.mark.parametrize("args, env, message", [
    (["up"], {"PORT": "eighty"}, "PORT must be a whole number"),
    (["worker"], {"REDIS_URL": "http://x"}, "REDIS_URL must be a URL"),
    (["worker", "--region", "mars"], {}, "unknown region 'mars'"),
])
def test_a_bad_setting_stops_the_process_with_a_clear_message(tmp_path, args, env, message):
    process = Process.pinghome(*args, env={"PINGHOME_DATA_DIR": str(tmp_path),
                                           "PINGHOME_NTP_SERVER": "off", **env},
                               log_path=tmp_path / "out.log")
    try:
        assert process.wait_exit() == 2
        assert message in process.output()
    finally:
        process.stop()
