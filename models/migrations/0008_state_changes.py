"""One state-change record for monitors, heartbeats and servers: the three tables become one
`state_change` (subject type and id), with `recorded_at` and `rules_applied_at` (the incident
rules' at-least-once hand-over). Every row is kept; changes handed over before count as
applied."""
import uuid

from peewee import CharField, DateTimeField, Model, TextField, UUIDField


class Base(Model):
    class Meta:
        legacy_table_names = False


class StateChange(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)
    subject_type = CharField(max_length=16)
    subject_id = UUIDField()
    region = CharField(max_length=64, null=True)
    from_status = CharField(max_length=16)
    to_status = CharField(max_length=16)
    cause = TextField(null=True)
    regions_down = TextField(null=True)
    changed_at = DateTimeField()
    trigger_key = CharField(max_length=128)
    recorded_at = DateTimeField()
    rules_applied_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("subject_type", "subject_id", "changed_at"), False),)


# (old table, subject, its owner column, whether it has regions)
_OLD = [("monitor_state_change", "monitor", True),
        ("heartbeat_state_change", "heartbeat", False),
        ("server_state_change", "server", False)]


def up(migrator, db):
    db.execute_sql("ALTER TABLE state_change RENAME TO monitor_state_change")
    with db.bind_ctx([StateChange]):
        db.create_tables([StateChange])
    for table, subject, regional in _OLD:
        region, down = ("region", "regions_down") if regional else ("NULL", "NULL")
        db.execute_sql(
            "INSERT INTO state_change (id, subject_type, subject_id, region, from_status, "
            "to_status, cause, regions_down, changed_at, trigger_key, recorded_at, "
            f"rules_applied_at) SELECT id, '{subject}', {subject}_id, {region}, from_status, "
            f"to_status, cause, {down}, changed_at, trigger_key, changed_at, "
            f"COALESCE(handed_at, changed_at) FROM {table}")
        db.execute_sql(f"DROP TABLE {table}")
    # NULL regions (overall changes) would stand apart in a plain unique index
    db.execute_sql("CREATE UNIQUE INDEX state_change_trigger ON state_change "
                   "(subject_type, subject_id, COALESCE(region, ''), trigger_key)")
    db.execute_sql("CREATE INDEX state_change_unapplied ON state_change (recorded_at) "
                   "WHERE rules_applied_at IS NULL")


def down(migrator, db):
    raise RuntimeError("0008_state_changes is one-way: restore a backup taken before it to go "
                       "back (the three tables' foreign keys to their subjects are not rebuilt)")
