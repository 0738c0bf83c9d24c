"""Uptime monitors, their region states and state changes, check results and hourly rollups,
facts and expiry reminders, and the scheduler's change log and watermark."""
import uuid

from peewee import (BigAutoField, BigIntegerField, BooleanField, CharField, CompositeKey,
                    DateField, DateTimeField, FloatField, ForeignKeyField, IntegerField, Model,
                    PostgresqlDatabase, SmallIntegerField, TextField, UUIDField)


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Service(UUIDBase):
    pass


class Monitor(UUIDBase):
    service = ForeignKeyField(Service, on_delete="CASCADE")
    name = CharField(max_length=200)
    type = CharField(max_length=16)
    url = TextField(null=True)
    host = CharField(max_length=255, null=True)
    port = IntegerField(null=True)
    method = CharField(max_length=8, default="GET")
    headers = TextField(null=True)
    body = TextField(null=True)
    data = TextField(null=True)
    conditions = TextField(null=True)
    skip_ssl_error = BooleanField(default=False)
    not_follow_redirect = BooleanField(default=False)
    is_advanced = BooleanField(default=False)
    grace_period = IntegerField(default=0)
    recovery_period = IntegerField(default=0)
    maintenance_cron_expression = CharField(max_length=120, null=True)
    maintenance_duration = IntegerField(null=True)
    interval_seconds = IntegerField(default=60)
    timeout_seconds = IntegerField(default=10)
    regions = TextField()
    enabled = BooleanField(default=True)
    status = CharField(max_length=16, default="unknown")
    status_changed_at = DateTimeField(null=True)
    version = IntegerField(default=1)
    created_at = DateTimeField()
    updated_at = DateTimeField()


class RegionState(UUIDBase):
    monitor = ForeignKeyField(Monitor, on_delete="CASCADE")
    region = CharField(max_length=64)
    status = CharField(max_length=16, default="unknown")
    failing_since = DateTimeField(null=True)
    passing_since = DateTimeField(null=True)
    last_error = TextField(null=True)
    changed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("monitor", "region"), True),)


class StateChange(UUIDBase):
    monitor = ForeignKeyField(Monitor, on_delete="CASCADE")
    region = CharField(max_length=64, null=True)
    from_status = CharField(max_length=16)
    to_status = CharField(max_length=16)
    cause = TextField(null=True)
    regions_down = TextField(null=True)
    changed_at = DateTimeField()
    trigger_key = CharField(max_length=128)
    handed_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("monitor", "region", "trigger_key"), True),
                   (("monitor", "changed_at"), False))


class MonitorFacts(UUIDBase):
    monitor = ForeignKeyField(Monitor, on_delete="CASCADE")
    kind = CharField(max_length=8)
    data = TextField()
    checked_at = DateTimeField()

    class Meta:
        indexes = ((("monitor", "kind"), True),)


class ExpiryReminder(UUIDBase):
    monitor = ForeignKeyField(Monitor, on_delete="CASCADE")
    kind = CharField(max_length=8)
    days_before = TextField()
    created_at = DateTimeField()
    updated_at = DateTimeField()

    class Meta:
        indexes = ((("monitor", "kind"), True),)


class ReminderSent(UUIDBase):
    monitor = ForeignKeyField(Monitor, on_delete="CASCADE")
    kind = CharField(max_length=8)
    days_before = IntegerField()
    expires_on = DateField()
    sent_at = DateTimeField()

    class Meta:
        indexes = ((("monitor", "kind", "days_before", "expires_on"), True),)


class CheckResult(Base):
    monitor = ForeignKeyField(Monitor, on_delete="CASCADE", index=False)
    region = CharField(max_length=64)
    due_at = DateTimeField()
    checked_at = DateTimeField()
    ok = BooleanField()
    in_maintenance = BooleanField(default=False)
    response_ms = FloatField(null=True)
    status_code = SmallIntegerField(null=True)
    dns_ms = FloatField(null=True)
    connect_ms = FloatField(null=True)
    tls_ms = FloatField(null=True)
    first_byte_ms = FloatField(null=True)
    error = TextField(null=True)

    class Meta:
        primary_key = CompositeKey("monitor", "due_at", "region")


class ResultHourly(Base):
    monitor = ForeignKeyField(Monitor, on_delete="CASCADE", index=False)
    hour = DateTimeField()
    checks = IntegerField()
    failures = IntegerField()
    maintenance_checks = IntegerField()
    response_count = IntegerField()
    response_sum_us = BigIntegerField()
    response_min_us = BigIntegerField(null=True)
    response_max_us = BigIntegerField(null=True)
    response_p95_us = BigIntegerField(null=True)
    histogram = TextField()
    regions = TextField()

    class Meta:
        primary_key = CompositeKey("monitor", "hour")


class ScheduleChange(Base):
    id = BigAutoField()
    kind = CharField(max_length=16)
    target_id = UUIDField()
    changed_at = DateTimeField(index=True)


class SchedulerState(Base):
    name = CharField(max_length=64, primary_key=True)
    value = TextField()
    updated_at = DateTimeField()


NEW = [Monitor, RegionState, StateChange, MonitorFacts, ExpiryReminder, ReminderSent,
       CheckResult, ResultHourly, ScheduleChange, SchedulerState]


def up(migrator, db):
    with db.bind_ctx(NEW + [Service]):
        db.create_tables(NEW)
    db.execute_sql("CREATE INDEX monitor_enabled ON monitor (enabled)")  # the scheduler loads by it
    if isinstance(db, PostgresqlDatabase):
        # retention deletes by due_at: a BRIN index finds old rows for almost no upkeep, since
        # results arrive in due order
        db.execute_sql("CREATE INDEX check_result_due_at ON check_result USING brin (due_at)")


def down(migrator, db):
    with db.bind_ctx(NEW + [Service]):
        db.drop_tables(list(reversed(NEW)))
