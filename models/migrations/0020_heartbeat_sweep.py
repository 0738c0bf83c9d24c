"""The heartbeat sweep's index moves from `deadline_at` to `sweep_at`, a time at or before the
deadline that signals rarely move: a signal's write then changes no indexed column, so
Postgres updates the row in its page without touching an index (a HOT update), for which each
page of `heartbeat` now keeps room (fillfactor 70)."""
from peewee import DateTimeField, PostgresqlDatabase


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("heartbeat", "sweep_at", DateTimeField(null=True)))
    db.execute_sql("UPDATE heartbeat SET sweep_at = deadline_at")
    migrator.migrate(
        migrator.drop_index("heartbeat", "heartbeat_deadline_at"),
        migrator.add_index("heartbeat", ("sweep_at",), False))
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ALTER TABLE heartbeat SET (fillfactor = 70)")


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ALTER TABLE heartbeat RESET (fillfactor)")
    migrator.migrate(
        migrator.drop_index("heartbeat", "heartbeat_sweep_at"),
        migrator.add_index("heartbeat", ("deadline_at",), False),
        migrator.drop_column("heartbeat", "sweep_at"))
