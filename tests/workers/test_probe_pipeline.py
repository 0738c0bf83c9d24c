"""The probe pipeline end to end in this process: the real scheduler loop enqueues into the
session's broker, the session's worker probes a target on loopback and records the states."""
from __future__ import annotations

import datetime as dt
import threading

import pytest

from models import clock
from models.monitors import operations as monitors
from models.monitors.tables import Monitor, RegionState
from models.state_changes import StateChange
from models.organisations import Organisation
from models.results import CheckResult
from scheduler.lock import leader_lock
from scheduler.loop import PeriodicTask, Scheduler
from scheduler.probes import ProbeSchedule
from scheduler.tasks import probe_enqueuer
from tests.factories.accounts import make_customer
from tests.factories.organisations import caller_of, first_team, make_service
from tests.polling import wait_until
from workers import probing

INTERVAL = 10


@pytest.fixture
def scheduler(settings, broker):
    """The real scheduler loop, probes only, ticking every 0.2 s while the test runs."""
    stop = threading.Event()
    loop = Scheduler(leader_lock(settings), [PeriodicTask("probes", 0, ProbeSchedule(
        probe_enqueuer(broker)).tick)], tick_seconds=0.2)
    thread = threading.Thread(target=loop.run, args=(stop,), daemon=True)
    thread.start()
    yield loop
    stop.set()
    thread.join(10)


@pytest.fixture
def owner(settings):
    customer = make_customer(settings)
    Organisation.update(plan="business").execute()     # 10-second intervals
    return caller_of(customer)


def watch(owner, settings, target, **fields):
    service = make_service(first_team(owner.customer))
    return monitors.create_monitor(owner, {"service_id": service.id, "name": "Target",
                                           "type": "http", "url": f"{target.url}/health",
                                           "interval": INTERVAL, "timeout": 2, **fields},
                                   settings=settings, now=clock.now())


def status_of(monitor) -> str:
    return Monitor.get_by_id(monitor.id).status


def region_statuses(monitor) -> dict:
    return {s.region: s.status for s in RegionState.select().where(RegionState.monitor == monitor)}


def test_a_monitor_goes_down_when_its_target_turns_bad_and_comes_back(owner, settings, target,
                                                                      scheduler):
    monitor = watch(owner, settings, target, regions=["eu-central-1"])
    wait_until(lambda: status_of(monitor) == "up", timeout=INTERVAL + 10)
    target.answers["/health"] = (503, b"maintenance")
    turned_bad = clock.now()
    wait_until(lambda: status_of(monitor) == "down", timeout=INTERVAL + 10)
    assert clock.now() - turned_bad < dt.timedelta(seconds=INTERVAL + 5)
    change = StateChange.get(StateChange.subject_id == monitor.id, StateChange.region.is_null(),
                             StateChange.to_status == "down")
    assert change.cause == "HTTP 503"
    target.answers["/health"] = (200, b"fine")
    wait_until(lambda: status_of(monitor) == "up", timeout=INTERVAL + 10)


@pytest.mark.parametrize("failing, expected", [(["us-east-1"], "up"),
                                               (["us-east-1", "local"], "down")])
def test_a_majority_of_three_regions_takes_a_monitor_down(owner, settings, target, scheduler,
                                                          failing, expected):
    Organisation.update(plan="business").execute()
    monitor = watch(owner, settings, target, regions=["local", "eu-central-1", "us-east-1"])
    for region in failing:
        target.by_region[region] = (500, b"regional outage")
    wait_until(lambda: len(region_statuses(monitor)) == 3 and status_of(monitor) != "unknown",
               timeout=INTERVAL + 10)
    assert status_of(monitor) == expected
    assert sorted(r for r, s in region_statuses(monitor).items() if s == "down") == sorted(failing)


def test_a_maintenance_window_silences_a_failing_target(owner, settings, target, scheduler):
    target.answers["/health"] = (500, b"down for maintenance")
    monitor = watch(owner, settings, target, regions=["eu-central-1"],
                    maintenance_cron_expression="* * * * *", maintenance_duration=1)
    wait_until(lambda: CheckResult.select().where(CheckResult.monitor == monitor).count() >= 1,
               timeout=INTERVAL + 10)
    assert status_of(monitor) == "unknown"
    assert StateChange.select().where(StateChange.subject_id == monitor.id).count() == 0
    assert all(r.in_maintenance for r in CheckResult.select().where(CheckResult.monitor == monitor))


def test_a_stale_check_is_dropped_not_run_late(owner, settings, target):
    monitor = watch(owner, settings, target, regions=["local"])
    long_ago = int(clock.now().timestamp()) - 3 * INTERVAL
    recorded = probing.run_batch("local", long_ago, [[str(monitor.id), monitor.version]],
                                 settings=settings, now=clock.now())
    assert recorded == 0 and target.received("/health") == []


def test_a_batch_run_twice_records_once(owner, settings, target):
    monitor = watch(owner, settings, target, regions=["local"])
    due = int(clock.now().timestamp())
    entries = [[str(monitor.id), monitor.version]]
    assert probing.run_batch("local", due, entries, settings=settings, now=clock.now()) == 1
    assert probing.run_batch("local", due, entries, settings=settings, now=clock.now()) == 0
    assert CheckResult.select().count() == 1


def test_a_late_check_of_a_batch_started_before_is_run_and_recorded_once(owner, settings,
                                                                         target):
    # redelivered from a killed worker, or retried after the database came back
    monitor = watch(owner, settings, target, regions=["local"])
    long_ago = int(clock.now().timestamp()) - 3 * INTERVAL
    entries = [[str(monitor.id), monitor.version]]
    for _ in range(2):
        probing.run_batch("local", long_ago, entries, settings=settings, now=clock.now(),
                          again=True)
    assert CheckResult.select().count() == 1 and len(target.received("/health")) == 2


def test_the_same_probe_message_delivered_twice_records_its_checks_once(owner, settings, target,
                                                                        broker, worker):
    import dramatiq
    from tests.conftest import drain
    monitor = watch(owner, settings, target, regions=["local"])
    message = dramatiq.Message(queue_name="probes.local", actor_name="probes.run",
                               args=("local", int(clock.now().timestamp()),
                                     [[str(monitor.id), monitor.version]]),
                               kwargs={}, options={})
    broker.enqueue(message)
    drain(broker)
    broker.enqueue(message)              # the same message id: started again
    drain(broker)
    assert CheckResult.select().where(CheckResult.monitor == monitor).count() == 1
