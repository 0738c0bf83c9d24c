"""`pinghome migrate` brings any earlier schema up to date without losing data."""
from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import itertools
import tempfile
import uuid

import peewee
import psycopg2
import pytest
from playhouse.migrations import Runner

import models  # noqa: F401  (registers every table)
from models import accounts, db

_numbers = itertools.count()


def _concrete(model):
    for sub in model.__subclasses__():
        if sub is not db.UUIDModel:
            yield sub
        yield from _concrete(sub)


LIVE_MODELS = sorted(set(_concrete(db.BaseModel)), key=lambda m: m._meta.table_name)


@pytest.fixture
def scratch(servers):
    with scratch_database(servers) as handle:
        yield handle


@contextlib.contextmanager
def scratch_database(servers):
    """An empty database of this session's kind, for one migration run."""
    if servers["postgres"] is None:
        with tempfile.TemporaryDirectory(prefix="pinghome-migrate-") as directory:
            handle = db.open_database(f"sqlite:///{directory}/scratch.db")
            yield handle
            handle.close()
        return
    name = f"scratch_{next(_numbers)}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(servers["postgres"].url.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    handle = db.open_database(servers["postgres"].url.rsplit("/", 1)[0] + f"/{name}")
    yield handle
    handle.close_all() if hasattr(handle, "close_all") else handle.close()
    admin.cursor().execute(f'DROP DATABASE "{name}"')
    admin.close()


def runner(database) -> Runner:
    return Runner(database, directory=str(db.MIGRATIONS_DIR))


def schema_of(database) -> dict:
    return {table: sorted((c.name, c.data_type.lower(), c.null) for c in database.get_columns(table))
            for table in database.get_tables()}


def indexes_of(database) -> dict:
    # an expression's column is None on SQLite: compare it by the index's name as well
    return {table: sorted((i.name, tuple(map(str, i.columns)), i.unique)
                          for i in database.get_indexes(table))
            for table in database.get_tables()}


def test_an_upgrade_from_the_first_migration_keeps_the_data_and_matches_a_fresh_schema(
        scratch, servers):
    first = runner(scratch).migrations()[0].name
    assert runner(scratch).up(target=first) == [first]
    organisation_id, customer_id = uuid.uuid4(), uuid.uuid4()
    now = dt.datetime(2026, 1, 2, 3, 4, 5)
    Organisation = peewee.Table("organisation", ("id", "name", "created_at")).bind(scratch)
    Customer = peewee.Table("customer", ("id", "organisation_id", "email", "name", "surname",
                                         "password_hash", "created_at", "confirmed_at",
                                         "password_changed_at")).bind(scratch)
    # SQLite keeps UUIDs as 32 hex digits, as peewee's UUIDField writes them
    Organisation.insert(id=organisation_id.hex, name="Early Org", created_at=now).execute()
    Customer.insert(id=customer_id.hex, organisation_id=organisation_id.hex, email="early@example.com",
                    name="Early", surname="Bird", password_hash="x", created_at=now,
                    confirmed_at=now, password_changed_at=now).execute()

    applied = runner(scratch).up()

    assert applied == [m.name for m in runner(scratch).migrations()][1:]
    with scratch.bind_ctx(LIVE_MODELS):
        kept = accounts.Customer.get_by_id(customer_id)
        assert (kept.email, kept.organisation.name) == ("early@example.com", "Early Org")
        assert kept.created_at == now.replace(tzinfo=dt.timezone.utc)
    upgraded_schema, upgraded_indexes = schema_of(scratch), indexes_of(scratch)
    with scratch_database(servers) as fresh:
        runner(fresh).up()
        assert upgraded_schema == schema_of(fresh)
        assert upgraded_indexes == indexes_of(fresh)


def test_migrating_again_changes_nothing(scratch):
    runner(scratch).up()
    before = schema_of(scratch)
    assert runner(scratch).up() == []
    assert schema_of(scratch) == before


def test_the_live_models_match_the_migrated_schema(scratch):
    """Catches a model change that forgot its migration."""
    runner(scratch).up()
    for model in LIVE_MODELS:
        table = model._meta.table_name
        migrated = {c.name for c in scratch.get_columns(table)}
        declared = {f.column_name for f in model._meta.sorted_fields}
        assert migrated == declared, table


def _frozen(name: str):
    """A migration module, for the shape of the tables it made."""
    spec = importlib.util.spec_from_file_location(name, db.MIGRATIONS_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_three_state_change_tables_become_one_keeping_every_change(scratch):
    from models.organisations import Organisation, Team
    from models.services import Service
    from models.state_changes import StateChange
    names = [m.name for m in runner(scratch).migrations()]
    runner(scratch).up(target=names[names.index("0008_state_changes") - 1])
    monitors, heartbeats, servers = (_frozen(n) for n in ("0004_monitors", "0005_heartbeats",
                                                          "0006_servers"))
    at = dt.datetime(2026, 1, 2, 3, 4, 5)
    old = [monitors.Monitor, monitors.StateChange, heartbeats.Heartbeat,
           heartbeats.HeartbeatStateChange, servers.Server, servers.ServerStateChange]
    with scratch.bind_ctx([Organisation, Team, Service, monitors.Service, heartbeats.Service,
                           servers.Service, *old]):
        # the columns of the time (the live model's later ones have defaults of their own)
        organisation, mark = uuid.uuid4(), scratch.param
        scratch.execute_sql("INSERT INTO organisation (id, name, plan, plan_version, created_at) "
                            f"VALUES ({', '.join([mark] * 5)})",
                            (organisation.hex, "Early", "free", "v1", at))
        service = Service.create(team=Team.create(organisation=organisation, name="T",
                                                  created_at=at), name="S", created_at=at)
        monitor = monitors.Monitor.create(service=service.id, name="m", type="http",
                                          regions='["eu"]', created_at=at, updated_at=at)
        heartbeat = heartbeats.Heartbeat.create(service=service.id, name="h", methods='["GET"]',
                                                created_at=at, updated_at=at)
        server = servers.Server.create(service=service.id, name="s", token="t", created_at=at,
                                       updated_at=at)
        common = dict(from_status="up", to_status="down", cause="gone", changed_at=at,
                      trigger_key="k")
        monitors.StateChange.create(monitor=monitor.id, region=None, regions_down='["eu"]',
                                    handed_at=at, **common)
        monitors.StateChange.create(monitor=monitor.id, region="eu", **common)
        heartbeats.HeartbeatStateChange.create(heartbeat=heartbeat.id, **common)
        servers.ServerStateChange.create(server=server.id, **common)
    runner(scratch).up()
    with scratch.bind_ctx([StateChange]):
        moved = {(c.subject_type, c.subject_id, c.region): c for c in StateChange.select()}
        assert set(moved) == {("monitor", monitor.id, None), ("monitor", monitor.id, "eu"),
                              ("heartbeat", heartbeat.id, None), ("server", server.id, None)}
        overall = moved[("monitor", monitor.id, None)]
        assert (overall.regions_down, overall.cause, overall.trigger_key) == (["eu"], "gone", "k")
        assert all(c.rules_applied_at is not None for c in moved.values())   # history, handed
        with pytest.raises(peewee.IntegrityError), scratch.atomic():           # once per trigger
            StateChange.create(subject_type="monitor", subject_id=monitor.id, region=None,
                               recorded_at=at, **common)


def test_the_mail_outbox_moves_into_the_one_outbox_keeping_every_message(scratch):
    from models.outbox import Delivery
    names = [m.name for m in runner(scratch).migrations()]
    runner(scratch).up(target=names[names.index("0010_one_outbox") - 1])
    initial, organisation = _frozen("0001_initial"), _frozen("0003_organisation")
    at, later = dt.datetime(2026, 1, 2, 3, 4, 5), dt.datetime(2026, 1, 2, 3, 9, 0)
    with scratch.bind_ctx([initial.MailOutbox, organisation.Delivery,
                           organisation.NotificationChannel]):
        mailed = initial.MailOutbox.create(
            to_address="early@example.com", subject="Your code", body="Your code is 123456",
            status="sent", attempts=2, created_at=at, last_attempt_at=later, sent_at=later)
        waiting = initial.MailOutbox.create(
            to_address="later@example.com", subject="Invitation", body="Join us",
            status="pending", attempts=1, last_error="451 try again", created_at=at,
            last_attempt_at=at, claimed_until=later)
        webhook = organisation.Delivery.create(
            type="webhook", address="https://example.com/hook", kind="test", subject="s",
            body="b", payload='{"type": "test"}', status="failed", attempts=8,
            last_error="HTTP 500", created_at=at, last_attempt_at=later)
    runner(scratch).up()
    assert "mail_outbox" not in scratch.get_tables()
    utc = dt.timezone.utc
    with scratch.bind_ctx(LIVE_MODELS):
        moved = {d.id: d for d in Delivery.select()}
        assert set(moved) == {mailed.id, waiting.id, webhook.id}
        assert all(d.key == str(d.id) for d in moved.values())
        shape = lambda d: (d.channel_id, d.type, d.address, d.kind, d.subject, d.body,  # noqa: E731
                           d.payload, d.status, d.attempts, d.last_error, d.created_at,
                           d.last_attempt_at, d.claimed_until, d.sent_at)
        assert shape(moved[mailed.id]) == (
            None, "email", "early@example.com", "mail", "Your code", "Your code is 123456",
            None, "sent", 2, None, at.replace(tzinfo=utc), later.replace(tzinfo=utc), None,
            later.replace(tzinfo=utc))
        assert shape(moved[waiting.id]) == (
            None, "email", "later@example.com", "mail", "Invitation", "Join us", None,
            "pending", 1, "451 try again", at.replace(tzinfo=utc), at.replace(tzinfo=utc),
            later.replace(tzinfo=utc), None)
        assert shape(moved[webhook.id]) == (
            None, "webhook", "https://example.com/hook", "test", "s", "b", '{"type": "test"}',
            "failed", 8, "HTTP 500", at.replace(tzinfo=utc), later.replace(tzinfo=utc), None,
            None)
        with pytest.raises(peewee.IntegrityError), scratch.atomic():    # the key is unique
            Delivery.create(key=str(webhook.id), type="email", address="x@example.com",
                            kind="test", subject="s", body="b", status="pending", created_at=at)

