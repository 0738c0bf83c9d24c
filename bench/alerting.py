"""Benchmark: alerting on Postgres + Redis, as the Procfile runs it.

(a) latency: 100 monitors (each in its team, with a state-change ruleset and a webhook channel
    to a receiver on loopback) have their target turn bad at once; from each failing check's
    state change being recorded to its notice arriving at the receiver: p50 and p99.
(b) storm: 5,000 monitors of one team (two webhook channels) go down within a minute: every
    incident opened once, messages per channel, time from the last change to the last message.
(c) webhook ingestion: POSTs of a JSON alert to the gateway against the bare Falcon app under the
    same gunicorn configuration (wrk on loopback), events counted back from the database.

Starts what it needs (Postgres, Redis with its append-only file, wrk from Debian's packages);
run: .venv/bin/python bench/alerting.py. The last line sums it up.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gateway import ensure_wrk, environment, run_app, start, stop_all  # noqa: E402
from bench.rows import migrated_with_service  # noqa: E402
from pinghome.localservers import Postgres, Redis  # noqa: E402

ALERT = json.dumps({"status": "firing", "alerts": [
    {"status": "firing", "fingerprint": "f1", "labels": {"alertname": "Bench"}}]})
WRK_SCRIPT = textwrap.dedent("""\
    local body = '%s'
    local headers = {["Content-Type"] = "application/json"}
    request = function()
      return wrk.format("POST", "/v1/incident/webhook/%s", headers, body)
    end
""")


class Server(ThreadingHTTPServer):
    request_queue_size = 1024      # probes arrive a batch at a time (the default backlog is 5)
    daemon_threads = True


class Target:
    """What the monitors probe: 200, or 503 for the path prefixes made to fail."""

    def __init__(self):
        self.failing: set[str] = set()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                bad = any(self.path.startswith(prefix) for prefix in target.failing)
                self.send_response(503 if bad else 200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                try:
                    self.wfile.write(b"ok")
                except OSError:
                    pass         # the probe wanted no body and hung up

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Receiver:
    """The webhook channels' peer: each message's arrival time, path and JSON."""

    def __init__(self):
        self.messages: list[tuple[float, str, dict]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                arrived = time.time()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.lock:
                    receiver.messages.append((arrived, self.path, json.loads(body)))

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notices(self, prefix: str) -> list[tuple[float, str, dict]]:
        """Every notice received under `prefix`, a grouped message counting for each in it."""
        with self.lock:
            found = [m for m in self.messages if m[1].startswith(prefix)]
        return [(at, path, notice) for at, path, payload in found
                for notice in payload.get("messages") or [payload]]


def main() -> None:
    options = parse_options()
    wrk = ensure_wrk()
    target, receiver = Target(), Receiver()
    postgres, redis = Postgres().start(), Redis(appendonly=True).start()
    processes: list[subprocess.Popen] = []
    try:
        env = {**environment(postgres, redis), "PINGHOME_REGIONS": "bench",
               "PINGHOME_ALLOW_PRIVATE_TARGETS": "true", "PINGHOME_WORKER_THREADS": "8"}
        db, webhook_id = prepare(env, options, target.url, receiver.url)
        for args in (["scheduler"], ["worker"], ["worker", "--region", "bench"]):
            processes.append(start(["-m", "pinghome", *args], env))
        time.sleep(options.interval + 5)        # every monitor checked up once: then alert
        if options.only in (None, "latency"):
            latency = measure_latency(db, target, receiver, options)
        if options.only in (None, "storm"):
            storm = measure_storm(db, target, receiver, options)
        if options.only is not None and options.only != "webhooks":
            return
        for process in processes[:]:            # (c) measures the gateway and its flusher
            if process.args[-1] in ("scheduler", "bench"):
                process.terminate()
                process.wait(20)
                processes.remove(process)
        script = Path(tempfile.mkdtemp(prefix="pinghome-bench-")) / "webhook.lua"
        script.write_text(WRK_SCRIPT % (ALERT, webhook_id))
        bare = run_app("bench.bare_app:app", env, options, wrk, script, processes)
        gateway = run_app("pinghome.wsgi:gateway", env, options, wrk, script, processes)
        lost = events_lost(db, redis.url, webhook_id, gateway)
        if options.only:
            return
        print(f"bench alerting: p99 {latency['p99']:.2f} s, storm {storm['messages']} messages "
              f"in {storm['seconds']:.1f} s, webhooks {gateway['rate'] / bare['rate']:.2f} x "
              f"bare app, lost {lost}")
    finally:
        stop_all(processes)
        redis.destroy()
        postgres.destroy()


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-monitors", type=int, default=100)
    parser.add_argument("--storm-monitors", type=int, default=5000)
    parser.add_argument("--interval", type=int, default=10, help="latency monitors' interval")
    parser.add_argument("--storm-interval", type=int, default=30)
    parser.add_argument("--seconds", type=int, default=30, help="webhook load time per app")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-connections", type=int, default=1000)
    parser.add_argument("--only", choices=("latency", "storm", "webhooks"),
                        help="run one part (the summary line needs all three)")
    return parser.parse_args()


def prepare(env, options, target_url: str, receiver_url: str):
    """Migrates and inserts every row directly (monitors up already, as after a first round)."""
    db, _, now = migrated_with_service(env)
    with db, db.cursor() as cursor:
        cursor.execute("SELECT organisation_id FROM team LIMIT 1")
        (organisation,) = cursor.fetchone()
        for n in range(options.latency_monitors):
            team = add_team(cursor, organisation, f"a{n}", now)
            add_alerting(cursor, organisation, team, [f"{receiver_url}/a/{n}"], now)
            add_monitor(cursor, team, f"{target_url}/a/{n}", options.interval, now)
        storm = add_team(cursor, organisation, "storm", now)
        add_alerting(cursor, organisation, storm, [f"{receiver_url}/b/one",
                                                   f"{receiver_url}/b/two"], now)
        for n in range(options.storm_monitors):
            add_monitor(cursor, storm, f"{target_url}/b/{n}", options.storm_interval, now)
        quiet = add_team(cursor, organisation, "quiet", now)     # events, and no ruleset
        webhook_id = str(uuid.uuid4())
        cursor.execute("INSERT INTO webhook (id, organisation_id, team_id, name, created_at) "
                       "VALUES (%s, %s, %s, 'Bench', %s)", (webhook_id, organisation, quiet, now))
    return db, webhook_id


def add_team(cursor, organisation, name: str, now) -> str:
    team, service = str(uuid.uuid4()), str(uuid.uuid4())
    cursor.execute("INSERT INTO team (id, organisation_id, name, created_at) "
                   "VALUES (%s, %s, %s, %s)", (team, organisation, name, now))
    cursor.execute("INSERT INTO service (id, team_id, name, created_at) VALUES (%s, %s, %s, %s)",
                   (service, team, name, now))
    return team


def add_alerting(cursor, organisation, team, urls: list[str], now) -> None:
    """A state-change ruleset telling the team, and the team's verified webhook channels."""
    cursor.execute(
        "INSERT INTO ruleset (id, organisation_id, team_id, level, rule_type, name, urgency, "
        "assignees, conditions, actions, created_at, updated_at) VALUES (%s, %s, %s, 'team', "
        "'state-change', 'Down', 'critical', %s, '[]', '[]', %s, %s)",
        (str(uuid.uuid4()), organisation, team, json.dumps([{"type": "team", "id": team}]),
         now, now))
    for priority, url in enumerate(urls, 1):
        cursor.execute(
            "INSERT INTO notification_channel (id, team_id, type, value, priority, enabled, "
            "verified_at, code_attempts, created_at, updated_at) VALUES (%s, %s, 'webhook', %s, "
            "%s, true, %s, 0, %s, %s)", (str(uuid.uuid4()), team, url, priority, now, now, now))


def add_monitor(cursor, team, url: str, interval: int, now) -> str:
    monitor = str(uuid.uuid4())
    cursor.execute("SELECT id FROM service WHERE team_id = %s", (team,))
    (service,) = cursor.fetchone()
    cursor.execute(
        "INSERT INTO monitor (id, service_id, name, type, url, method, skip_ssl_error, "
        "not_follow_redirect, is_advanced, grace_period, recovery_period, regions, "
        "interval_seconds, timeout_seconds, enabled, status, version, created_at, updated_at) "
        "VALUES (%s, %s, %s, 'http', %s, 'GET', false, false, false, 0, 0, '[\"bench\"]', %s, 5,"
        " true, 'up', 1, %s, %s)", (monitor, service, url.split("/", 3)[3], url, interval,
                                    now, now))
    cursor.execute("INSERT INTO region_state (id, monitor_id, region, status, changed_at) "
                   "VALUES (%s, %s, 'bench', 'up', %s)", (str(uuid.uuid4()), monitor, now))
    return monitor


def down_changes(db, team_name: str) -> dict[str, float]:
    """Each monitor's overall change to down: its subject id -> when it was recorded."""
    with db, db.cursor() as cursor:
        cursor.execute(
            "SELECT c.subject_id, extract(epoch from c.recorded_at) FROM state_change c "
            "JOIN monitor m ON m.id = c.subject_id JOIN service s ON s.id = m.service_id "
            "JOIN team t ON t.id = s.team_id WHERE c.region IS NULL AND c.to_status = 'down' "
            "AND t.name LIKE %s", (team_name,))
        return {str(subject): float(at) for subject, at in cursor.fetchall()}


def measure_latency(db, target, receiver, options) -> dict:
    target.failing.add("/a/")
    deadline = time.monotonic() + options.interval + 60
    while (len(receiver.notices("/a/")) < options.latency_monitors
           and time.monotonic() < deadline):
        time.sleep(0.2)
    target.failing.discard("/a/")
    recorded = down_changes(db, "a%")
    waits = sorted(at - recorded[notice["incident"]["subject"]["id"]]
                   for at, _, notice in receiver.notices("/a/")
                   if notice.get("type") == "incident.opened")
    figures = {"count": len(waits), "p50": _rank(waits, 0.5), "p99": _rank(waits, 0.99)}
    print(f"(a) {figures['count']} of {options.latency_monitors} notices; from the failing "
          f"check's change recorded to the notice at the receiver: p50 {figures['p50']:.3f} s, "
          f"p99 {figures['p99']:.3f} s", flush=True)
    return figures


def _rank(ordered: list[float], share: float) -> float:
    """The nearest-rank percentile of sorted values."""
    return ordered[max(0, min(len(ordered) - 1, int(share * len(ordered) + 0.999) - 1))]


def measure_storm(db, target, receiver, options) -> dict:
    began = time.time()
    target.failing.add("/b/")
    deadline = time.monotonic() + options.storm_interval + 240
    wanted = 2 * options.storm_monitors
    while len(receiver.notices("/b/")) < wanted and time.monotonic() < deadline:
        time.sleep(0.5)
    recorded = down_changes(db, "storm")
    with db, db.cursor() as cursor:
        # (an incident is dated by its check, which may be due a moment before the storm)
        cursor.execute("SELECT count(*), count(DISTINCT subject_id) FROM incident WHERE "
                       "state_change_id IN (SELECT id FROM state_change WHERE recorded_at >= "
                       "to_timestamp(%s) AT TIME ZONE 'UTC') AND subject_id "
                       "IN (SELECT m.id FROM monitor m JOIN service s ON s.id = m.service_id "
                       "JOIN team t ON t.id = s.team_id WHERE t.name = 'storm')", (began,))
        incidents, subjects = cursor.fetchone()
        cursor.execute("SELECT c.cause, count(*) FROM state_change c WHERE c.recorded_at < "
                       "to_timestamp(%s) AT TIME ZONE 'UTC' AND c.region IS NULL GROUP BY 1",
                       (began,))
        early = cursor.fetchall()
    with receiver.lock:
        messages = [m for m in receiver.messages if m[1].startswith("/b/")]
    per_channel = {path: sum(1 for m in messages if m[1] == path) for path in ("/b/one",
                                                                                "/b/two")}
    with db, db.cursor() as cursor:      # where the time went, for the last incident of each
        cursor.execute(
            "SELECT max(extract(epoch from i.created_at - c.recorded_at)), "
            "max(extract(epoch from s.done_at - i.created_at)), "
            "max(extract(epoch from d.sent_at - s.done_at)) FROM incident i "
            "JOIN state_change c ON c.id = i.state_change_id JOIN incident_step s "
            "ON s.incident_id = i.id JOIN delivery d ON d.key LIKE 'incident:' || i.id || ':%%' "
            "WHERE c.recorded_at >= to_timestamp(%s) AT TIME ZONE 'UTC'", (began,))
        lags = cursor.fetchone()
    print(f"    the slowest: change recorded -> incident opened {float(lags[0] or 0):.1f} s, "
          f"-> notice queued {float(lags[1] or 0):.1f} s, -> sent {float(lags[2] or 0):.1f} s",
          flush=True)
    first, last = min(recorded.values()), max(recorded.values())
    told_last = max(at for at, _, _ in messages)
    figures = {"messages": max(per_channel.values()), "seconds": told_last - last}
    print(f"(b) {len(recorded)} monitors down within {last - first:.1f} s; {incidents} incidents"
          f" for {subjects} monitors; messages per channel {per_channel}; "
          f"{len(receiver.notices('/b/'))} notices in them; last message "
          f"{figures['seconds']:.1f} s after the last change; changes before the storm: "
          f"{early}", flush=True)
    return figures


def events_lost(db, redis_url: str, webhook_id: str, gateway: dict) -> int:
    import redis as redis_client
    client = redis_client.Redis.from_url(redis_url)
    deadline = time.monotonic() + 120
    while client.xlen("pinghome:webhook-events") and time.monotonic() < deadline:
        time.sleep(0.2)
    with db, db.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM webhook_event WHERE webhook_id = %s", (webhook_id,))
        (stored,) = cursor.fetchone()
    answered = gateway["requests"] - gateway["errors"] + gateway["warmup_ok"]
    print(f"(c) events stored {stored:,} for {answered:,} posts answered 202 (warm-up "
          "included)", flush=True)
    return max(0, answered - stored)


if __name__ == "__main__":
    main()
