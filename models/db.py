"""Database set-up: one proxy every table binds to, opened on Postgres or SQLite from settings."""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import io
import json
import logging
import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import peewee
from playhouse import db_url
from playhouse.migrations import Runner
from playhouse.pool import MaxConnectionsExceeded


log = logging.getLogger(__name__)

database = peewee.DatabaseProxy()
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_MIGRATION_LOCK_KEY = 7_346_012_905   # any constant: pg_advisory_lock key for `migrate`


class UtcDateTimeField(peewee.DateTimeField):
    """Stores instants as naive UTC, hands back aware UTC datetimes (on Postgres and SQLite)."""

    def db_value(self, value):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


class JSONField(peewee.TextField):
    """JSON kept as text (the same on Postgres and SQLite)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def python_value(self, value):
        return None if value is None else json.loads(value)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class UUIDModel(BaseModel):
    id = peewee.UUIDField(primary_key=True, default=uuid.uuid4)


def open_database(url: str, *, max_connections: int = 32) -> peewee.Database:
    """A connection (pool) for `url`; SQLite gets WAL and a busy timeout so threads can share it."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url[len("sqlite:///"):] or ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return peewee.SqliteDatabase(path, timeout=10, returning_clause=True, pragmas={
            "journal_mode": "wal", "foreign_keys": 1, "synchronous": "normal",
            "busy_timeout": 10_000})
    return db_url.connect(
        url.replace(parts.scheme + "://", "postgres+pool://", 1),
        max_connections=max_connections, stale_timeout=300, timeout=10)


def bind(settings) -> peewee.Database:
    """Points every table at the database of `settings` (once per process, or again in tests)."""
    handle = open_database(settings.database_url)
    database.initialize(handle)
    return handle


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


UNAVAILABLE = (peewee.OperationalError, peewee.InterfaceError, MaxConnectionsExceeded)


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` is the database being out of reach (restarting, locked, out of
    connections) rather than refusing what it was given: an error of the connection, or any
    error while the database does not answer a plain query either. It decides whether a
    failed batch waits to be tried again whole or is split to find what broke it."""
    return isinstance(exc, UNAVAILABLE) or not answers()


def answers() -> bool:
    """Whether the database answers a plain query now."""
    try:
        database.execute_sql("SELECT 1").fetchone()
    except (peewee.DatabaseError, *UNAVAILABLE):
        return False
    return True


@contextlib.contextmanager
def serialized():
    """A transaction for read-check-write rules (the last owner of a team, dense priorities):
    rows read through `locked(query)` stay ours until commit. Postgres locks them with FOR
    UPDATE; SQLite has no row locks, so its transaction takes the write lock at BEGIN."""
    if is_postgres() or database.in_transaction():
        with database.atomic():
            yield
    else:
        with database.atomic(lock_type="IMMEDIATE"):
            yield


def locked(query):
    return query.for_update() if is_postgres() else query


def insert_rows(model, fields: list, rows: list[tuple], *, returning: tuple = (),
                chunk: int = 1000) -> list[tuple]:
    """A multi-row INSERT ... ON CONFLICT DO NOTHING, built as one statement per `chunk` rows;
    answers the `returning` columns of the rows actually inserted, raw from the driver.

    For hot paths: peewee's insert_many builds its SQL value by value (tens of ms for a few
    hundred rows), while here each value only passes its field's `db_value`."""
    param = database.param
    columns, back = _columns(fields), _columns(returning)
    converters = [f.db_value for f in fields]
    found: list[tuple] = []
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        values = ", ".join(["(" + ", ".join([param] * len(fields)) + ")"] * len(part))
        sql = (f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES {values} '
               f"ON CONFLICT DO NOTHING" + (f" RETURNING {back}" if returning else ""))
        params = [convert(value) for row in part for convert, value in zip(converters, row)]
        cursor = database.execute_sql(sql, params)
        if returning:
            found.extend(cursor.fetchall())
    return found


def copy_in(model, fields: list, text: bytes, *, returning: tuple = ()) -> list[tuple] | None:
    """Postgres only: `insert_rows` for rows already in COPY's text format (`copytext`), one
    per line in `fields` order: no value is rendered or parsed one by one, about a third of
    the cost on both sides for thousands of rows. Call it in a transaction.

    They are copied straight into the table, in a savepoint: the common case, where none was
    stored before, and then it answers None (every row went in: the caller has their values,
    and parsing them back out of the text cost more than the copy). When one was (a batch
    stored again), the savepoint is rolled back, they go through a temporary table and one
    INSERT ... SELECT ... ON CONFLICT DO NOTHING, and it answers the `returning` columns of
    the rows inserted, raw from the driver."""
    try:
        with database.atomic():
            _copy(model._meta.table_name, _columns(fields), text)
    except peewee.IntegrityError:
        return _copy_in_new(model, fields, text, returning)
    return None


def _copy_in_new(model, fields: list, text: bytes, returning: tuple) -> list[tuple]:
    staging, columns = _copy_to_staging(model, fields, text)
    back = _columns(returning)
    cursor = database.execute_sql(
        f'INSERT INTO "{model._meta.table_name}" ({columns}) SELECT {columns} FROM "{staging}" '
        f"ON CONFLICT DO NOTHING" + (f" RETURNING {back}" if returning else ""))
    return cursor.fetchall() if returning else []


def copy_update(model, fields: list, text: bytes) -> None:
    """Postgres only: sets `fields[1:]` of the rows whose primary key is `fields[0]`, from
    rows in COPY's text format, in one UPDATE ... FROM. Call it in a transaction."""
    staging, _ = _copy_to_staging(model, fields, text)
    key = fields[0].column_name
    assignments = ", ".join(f'"{f.column_name}" = s."{f.column_name}"' for f in fields[1:])
    database.execute_sql(f'UPDATE "{model._meta.table_name}" AS t SET {assignments} '
                         f'FROM "{staging}" AS s WHERE t."{key}" = s."{key}"')


def _copy_to_staging(model, fields: list, text: bytes) -> tuple[str, str]:
    """COPYs the rows into a temporary table with those columns (made once per connection,
    emptied at commit); answers its name and the column list."""
    table, columns = model._meta.table_name, _columns(fields)
    staging = f"{table}_incoming_{zlib.crc32(columns.encode()):08x}"
    database.execute_sql(f'CREATE TEMPORARY TABLE IF NOT EXISTS "{staging}" '
                         f'ON COMMIT DELETE ROWS AS SELECT {columns} FROM "{table}" WITH NO DATA')
    _copy(staging, columns, text)
    return staging, columns


def _copy(table: str, columns: str, text: bytes) -> None:
    with peewee.__exception_wrapper__:       # peewee's errors, as for every other query
        database.cursor().copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', io.BytesIO(text))


def _columns(fields: list) -> str:
    return ", ".join(f'"{f.column_name}"' for f in fields)


def migrate(data_dir: str = "var") -> list[str]:
    """Applies every pending migration in order; safe when several processes start at once."""
    with _migration_lock(data_dir):
        runner = Runner(database.obj, directory=str(MIGRATIONS_DIR))
        applied = runner.up()
    for name in applied:
        log.info("applied migration %s", name)
    return applied


def pending_migrations() -> list[str]:
    runner = Runner(database.obj, directory=str(MIGRATIONS_DIR))
    return [m.name for m in runner.status() if m.applied is None and m.path]


@contextlib.contextmanager
def _migration_lock(data_dir):
    if is_postgres():
        with database.connection_context():
            database.execute_sql("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
            try:
                yield
            finally:
                database.execute_sql("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))
        return
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(data_dir) / "migrate.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def table_names() -> list[str]:
    """Every table the migrations made, except their own history."""
    return [name for name in database.get_tables() if name != "schema_migration"]


def truncate_all() -> None:
    """Empties every table (tests): one statement on Postgres, one per table on SQLite. A
    request still being answered when a test ends (a Stripe event arriving late, say) may
    deadlock with the TRUNCATE's locks; Postgres then cancels one of the two, and if it was
    the TRUNCATE it is made again."""
    for attempt in (1, 2, 3):
        try:
            return _truncate(table_names())
        except peewee.OperationalError as exc:
            if "deadlock detected" not in str(exc) or attempt == 3:
                raise
            time.sleep(0.2)


def _truncate(names: list[str]) -> None:
    if not names:
        return
    with database.atomic():
        if is_postgres():
            database.execute_sql("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE")
        else:
            database.execute_sql("PRAGMA defer_foreign_keys = ON")
            for name in names:
                database.execute_sql(f'DELETE FROM "{name}"')
