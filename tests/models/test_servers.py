"""Server monitors in the domain: the silence sweep over many servers, and retention."""
from __future__ import annotations

import datetime as dt

import pytest

from models.organisations import Organisation
from models.servers import metrics, operations, reports
from models.servers.tables import Server, ServerMetric
from models.state_changes import StateChange
from tests.factories.accounts import make_customer
from tests.factories.organisations import caller_of, first_team, make_service
from tests.jobs import held_jobs

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def make_server(settings):
    alice = make_customer(settings)
    Organisation.update(plan="business").execute()
    service = make_service(first_team(alice))

    def make(name="srv"):
        return operations.create_server(caller_of(alice), {"service_id": service.id,
                                                           "name": name}, now=T0)
    return make


def report(server, at, interval=10):
    return reports.record_report(Server.get_by_id(server.id),
                                 [("cpu-total-usage", at, {"percent": 1.0})],
                                 interval_seconds=interval, now=at)


def test_the_sweep_takes_down_only_servers_past_their_deadline_in_batches(make_server):
    quiet, busy, never = make_server("quiet"), make_server("busy"), make_server("never")
    extra = [make_server(f"extra-{n}") for n in range(3)]
    for server in (quiet, *extra):
        report(server, T0)
    report(busy, T0 + dt.timedelta(seconds=50))
    with held_jobs() as handed:
        assert reports.mark_silent(now=T0 + dt.timedelta(seconds=60), batch=2) == 2
        assert reports.mark_silent(now=T0 + dt.timedelta(seconds=60), batch=2) == 2
        assert reports.mark_silent(now=T0 + dt.timedelta(seconds=60), batch=2) == 0
    statuses = {s.name: s.status for s in Server.select()}
    assert statuses == {"quiet": "down", "busy": "up", "never": "pending",
                        **{f"extra-{n}": "down" for n in range(3)}}
    downs = StateChange.select().where(StateChange.to_status == "down")
    assert sorted(str(c.id) for c in downs) == sorted(args[0] for _, args in handed)
    assert all(StateChange.get_by_id(args[0]).subject_type == "server" for _, args in handed)


def test_a_report_sent_twice_stores_and_changes_nothing_twice(make_server):
    server = make_server()
    with held_jobs() as handed:
        assert report(server, T0) == 1
        assert report(server, T0) == 0
    assert StateChange.select().count() == 1 and len(handed) == 1


def test_readings_past_retention_are_deleted(make_server):
    server = make_server()
    report(server, T0 - dt.timedelta(days=31))
    report(server, T0)
    assert metrics.purge_readings(now=T0, retention_days=30) == 1
    assert [m.at for m in ServerMetric.select()] == [T0]
