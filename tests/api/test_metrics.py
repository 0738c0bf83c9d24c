"""`/metrics` on the API and the gateway, and a worker's or scheduler's own port: the counts
move with what happens (a check recorded through the real recording path, a signal at the
gateway over HTTP, a delivery through the worker), the state is read at the scrape, and only
allowed addresses may read them."""
from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import falcon.testing
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from api.resources.metrics import process_app
from models import clock, metrics, outbox
from models.monitors import recording
from models.monitors.tables import Monitor
from pinghome.localservers import free_port
from pinghome.roles import serve_metrics
from scheduler.loop import Scheduler
from tests.factories.accounts import make_customer
from tests.factories.monitors import make_monitor, outcome
from tests.factories.organisations import first_team, make_service
from tests.jobs import held_jobs
from tests.polling import wait_until


def samples(text: str) -> dict:
    """{(sample name, sorted labels): value} of a scrape."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(scraped: dict, name: str, **labels) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(client) -> dict:
    response = client.simulate_get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def http_get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def service(settings):
    return make_service(first_team(make_customer(settings)))


def record(monitor, region, *outcomes):
    monitor = Monitor.get_by_id(monitor.id)
    with held_jobs():
        recording.record(region, list(outcomes), {monitor.id: monitor}, now=clock.now())


def test_a_failing_check_counts_and_takes_its_monitor_down_in_the_state(client, service):
    before = scrape(client)
    monitor = make_monitor(service, type="tcp", regions=("eu-central-1",))
    record(monitor, "eu-central-1", outcome(monitor, 0, True))
    middle = scrape(client)
    assert value(middle, "pinghome_monitors", state="up") == 1
    assert value(middle, "pinghome_monitors", state="down") == 0
    record(monitor, "eu-central-1", outcome(monitor, 60, False))
    after = scrape(client)
    labels = dict(region="eu-central-1", type="tcp")
    assert value(after, "pinghome_checks_total", result="ok", **labels) \
        == value(before, "pinghome_checks_total", result="ok", **labels) + 1
    assert value(after, "pinghome_checks_total", result="failed", **labels) \
        == value(before, "pinghome_checks_total", result="failed", **labels) + 1
    # the ok check had a response time (12 ms), the failed one none
    assert value(after, "pinghome_probe_duration_seconds_count", **labels) \
        == value(before, "pinghome_probe_duration_seconds_count", **labels) + 1
    assert value(after, "pinghome_probe_duration_seconds_bucket", le="0.025", **labels) \
        == value(before, "pinghome_probe_duration_seconds_bucket", le="0.025", **labels) + 1
    assert value(after, "pinghome_monitors", state="down") == 1
    assert value(after, "pinghome_monitors", state="up") == 0


def test_a_batch_recorded_twice_counts_once(client, service):
    monitor = make_monitor(service, type="http")
    before = scrape(client)
    for _ in range(2):
        record(monitor, "local", outcome(monitor, 0, False), outcome(monitor, 60, False))
    after = scrape(client)
    labels = dict(region="local", type="http", result="failed")
    assert value(after, "pinghome_checks_total", **labels) \
        == value(before, "pinghome_checks_total", **labels) + 2


def test_a_paused_monitor_counts_as_paused(client, service):
    make_monitor(service, enabled=False)
    assert value(scrape(client), "pinghome_monitors", state="paused") == 1


def test_a_heartbeat_signal_at_the_gateway_counts_and_moves_the_heartbeat_up(client, gateway,
                                                                            service):
    from models.heartbeats.tables import Heartbeat
    now = clock.now()
    heartbeat = Heartbeat.create(service=service, name="Backup", methods=["GET"],
                                 interval_seconds=60, grace_seconds=30, created_at=now,
                                 updated_at=now)
    status, text = http_get(f"{gateway}/metrics")
    assert status == 200
    before = samples(text)
    assert value(before, "pinghome_heartbeats", state="new") == 1
    assert http_get(f"{gateway}/v1/heartbeat/{heartbeat.id}")[0] == 200
    after = samples(http_get(f"{gateway}/metrics")[1])
    assert value(after, "pinghome_signals_total", kind="heartbeat") \
        == value(before, "pinghome_signals_total", kind="heartbeat") + 1
    # stored by a flusher (services) or before the answer (embedded), then counted as up
    wait_until(lambda: value(scrape(client), "pinghome_heartbeats", state="up") == 1)
    assert value(scrape(client), "pinghome_signals_waiting_entries",
                 stream="heartbeat_signals") == 0


def test_a_delivery_counts_by_channel_type_and_result(client, smtp_sink):
    before = value(scrape(client), "pinghome_deliveries_total", channel_type="email",
                   result="sent")
    outbox.queue(key=f"test:{uuid.uuid4()}", type="email", address="metrics@example.com",
                 kind="mail", subject="Counted", body="Body", now=clock.now())
    assert smtp_sink.wait_for("metrics@example.com")
    wait_until(lambda: value(scrape(client), "pinghome_deliveries_total",
                             channel_type="email", result="sent") == before + 1)


def test_queues_and_the_broker_are_read_at_the_scrape(client, settings):
    scraped = scrape(client)
    for queue in ("default", "notifications", *(f"probes.{r}" for r in settings.regions)):
        assert ("pinghome_queue_messages", (("queue", queue),)) in scraped
        assert ("pinghome_queue_oldest_message_age_seconds", (("queue", queue),)) in scraped
    assert value(scraped, "pinghome_metrics_source_up", source="database") == 1
    assert value(scraped, "pinghome_metrics_source_up", source="broker") == 1
    assert value(scraped, "pinghome_metrics_source_up", source="streams") == 1


def test_clock_offsets_recorded_by_the_processes_are_exposed(client):
    from models.health import ClockReading
    ClockReading.create(role="worker", instance="host-a:12", server="ntp.test",
                        offset_seconds=0.25, checked_at=clock.now())
    assert value(scrape(client), "pinghome_clock_offset_seconds", role="worker",
                 process="host-a:12") == 0.25


def test_a_source_that_cannot_be_read_leaves_its_gauges_out_and_fails_no_scrape(settings):
    import redis

    from models.heartbeats.stream import SignalStream
    away = redis.Redis(port=free_port(), socket_connect_timeout=1)   # nothing listens there
    state = metrics.StateCollector({"heartbeat_signals": SignalStream(away)})
    scraped = samples(metrics.exposition(settings, state)[0].decode())
    assert value(scraped, "pinghome_metrics_source_up", source="streams") == 0
    assert value(scraped, "pinghome_metrics_source_up", source="database") == 1
    assert not any(name == "pinghome_signals_waiting_entries" for name, _ in scraped)
    assert ("pinghome_monitors", (("state", "down"),)) in scraped


@pytest.mark.parametrize("address, allow, status", [
    ("127.0.0.1", None, 200),
    ("::1", None, 200),
    ("10.1.2.3", None, 403),
    ("192.0.2.7", None, 403),
    ("10.1.2.3", "10.0.0.0/8", 200),
    ("::ffff:10.1.2.3", "10.0.0.0/8", 200),
    ("127.0.0.1", "10.0.0.0/8", 403),
    ("2001:db8::5", "10.0.0.0/8, 2001:db8::/32", 200),
])
def test_only_allowed_addresses_may_read_the_metrics(settings, broker, address, allow, status):
    from api.app import create_app
    from models.settings import load_settings
    if allow is not None:
        environ = {"PINGHOME_SECRET_KEY": settings.secret_key, "PINGHOME_METRICS_ALLOW": allow}
        settings = settings.replace(metrics_allow=load_settings(environ).metrics_allow)
    client = falcon.testing.TestClient(create_app(settings, broker_check=lambda: None))
    response = client.simulate_get("/metrics", remote_addr=address)
    assert response.status_code == status
    if status == 403:
        assert response.json["error"]["code"] == "metrics_forbidden"
        assert "pinghome_" not in response.text


def test_a_read_only_api_key_may_read_the_metrics_from_anywhere(client, settings):
    from models import api_keys, clock
    from models.accounts import Caller
    from tests.factories.accounts import make_customer
    person = Caller(customer=make_customer(settings), session_id=None)    # owns their team
    keys = {kind: api_keys.create_key(person, name=kind, kind=kind, settings=settings,
                                      now=clock.now())[1] for kind in api_keys.KINDS}
    far = "192.0.2.7"

    def read(key, remote_addr=far):
        return client.simulate_get("/metrics", remote_addr=remote_addr,
                                   headers={"Authorization": f"Bearer {key}"} if key else {})

    assert read(keys["read-only"]).status_code == 200
    assert "pinghome_monitors" in read(keys["read-only"]).text
    # a scrape configuration holds its key in the clear: one that can write is not taken
    assert read(keys["read-write"]).status_code == 403
    assert read("phk_unknown").status_code == 403
    assert read(None).status_code == 403
    api_keys.revoke_key(person, api_keys.ApiKey.get(api_keys.ApiKey.name == "read-only").id,
                        now=clock.now())
    assert read(keys["read-only"]).status_code == 403


def test_a_worker_port_serves_its_process_metrics_and_the_scheduler_its_leadership(settings):
    port = free_port()
    stop = threading.Event()
    Scheduler(_Leading(), []).tick()
    serve_metrics(settings.replace(metrics_port=port), stop)
    try:
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/metrics"))
        status, text = http_get(f"http://127.0.0.1:{port}/metrics")
        scraped = samples(text)
        assert status == 200
        assert value(scraped, "pinghome_leader", lock="scheduler") == 1
        assert "# TYPE pinghome_checks_total counter" in text
        # the state is the API's and the gateway's: a worker does not query it
        assert not any(name == "pinghome_monitors" for name, _ in scraped)
    finally:
        stop.set()


def _answers(url: str) -> bool:
    try:
        return http_get(url)[0] == 200
    except OSError:
        return False


ROOT = Path(__file__).resolve().parents[2]
CONTRIB = ROOT / "contrib"
_METRIC = re.compile(r"\bpinghome_[a-z0-9_]+")


def dashboard_metrics() -> set[str]:
    """The metrics the Grafana dashboard's panels query."""
    dashboard = json.loads((CONTRIB / "grafana" / "pinghome-dashboard.json").read_text())
    return {name for panel in dashboard["panels"] for target in panel.get("targets", [])
            for name in _METRIC.findall(target["expr"])}


def rule_metrics() -> set[str]:
    """The metrics of the rules that the example scrape configuration loads."""
    config = yaml.safe_load((CONTRIB / "prometheus" / "prometheus.yml").read_text())
    found = set()
    for name in config["rule_files"]:
        rules = yaml.safe_load((CONTRIB / "prometheus" / name).read_text())
        found |= {metric for group in rules["groups"] for rule in group["rules"]
                  for metric in _METRIC.findall(rule["expr"])}
    return found


def exposed_names(text: str) -> set[str]:
    """The sample names a scrape can have, also of families with no sample yet."""
    names = set()
    for family in text_string_to_metric_families(text):
        names |= {family.name, *(s.name for s in family.samples)}
        if family.type == "counter":
            names.add(family.name + "_total")
        if family.type == "histogram":
            names |= {family.name + suffix for suffix in ("_bucket", "_sum", "_count")}
    return names


def test_every_metric_the_dashboard_and_the_rules_use_is_exposed(client, service, settings):
    monitor = make_monitor(service)
    record(monitor, "local", outcome(monitor, 0, True), outcome(monitor, 60, False))
    Scheduler(_Leading(), []).tick()
    worker_port = falcon.testing.TestClient(process_app(settings)).simulate_get("/metrics")
    exposed = exposed_names(client.simulate_get("/metrics").text) | exposed_names(
        worker_port.text)
    used = dashboard_metrics() | rule_metrics()
    assert used and not used - exposed, sorted(used - exposed)
    # and the dashboard shows every metric there is
    declared = {metric._name for metric in (metrics.CHECKS, metrics.PROBE_DURATION,
                                            metrics.SIGNALS, metrics.DELIVERIES,
                                            metrics.LEADER)} | set(metrics.STATE)
    shown = dashboard_metrics()
    assert not {d for d in declared if not any(name.startswith(d) for name in shown)}


def test_the_example_scrape_configuration_reaches_every_role_on_the_ports_compose_uses():
    config = yaml.safe_load((CONTRIB / "prometheus" / "prometheus.yml").read_text())
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"pinghome-api", "pinghome-gateway", "pinghome-scheduler",
                         "pinghome-workers"}
    assert jobs["pinghome-api"]["static_configs"][0]["targets"] == ["web:8000"]
    assert jobs["pinghome-gateway"]["static_configs"][0]["targets"] == ["gateway:8001"]
    workers = {name for name, service in compose.items()
               if service.get("command", [None])[:2] == ["pinghome", "worker"]}
    by_dns = {name: found["port"] for job in ("pinghome-scheduler", "pinghome-workers")
              for found in jobs[job]["dns_sd_configs"] for name in found["names"]}
    assert set(by_dns) == workers | {"scheduler"}
    for name, port in by_dns.items():
        assert compose[name]["environment"]["PINGHOME_METRICS_PORT"] == port


class _Leading:
    def hold(self):
        return True

    def release(self):
        pass
