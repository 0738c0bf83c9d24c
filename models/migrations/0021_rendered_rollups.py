"""Hourly rollups keep their hour rendered as a report's bucket, and completed days are summed
into `result_daily`, so a month's hourly report neither shapes 720 buckets nor merges 720
histograms per region. Rows written before keep NULL there and are shaped as before."""
from peewee import CompositeKey, DateTimeField, ForeignKeyField, Model, TextField, UUIDField


class Base(Model):
    class Meta:
        legacy_table_names = False


class Monitor(Base):
    id = UUIDField(primary_key=True)


class ResultDaily(Base):
    monitor = ForeignKeyField(Monitor, on_delete="CASCADE", index=False)
    day = DateTimeField()
    overall = TextField()
    regions = TextField()

    class Meta:
        primary_key = CompositeKey("monitor", "day")


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("result_hourly", "rendered", TextField(null=True)),
        migrator.add_column("result_hourly", "rendered_regions", TextField(null=True)))
    with db.bind_ctx([ResultDaily, Monitor]):
        db.create_tables([ResultDaily])


def down(migrator, db):
    with db.bind_ctx([ResultDaily, Monitor]):
        db.drop_tables([ResultDaily])
    migrator.migrate(
        migrator.drop_column("result_hourly", "rendered_regions"),
        migrator.drop_column("result_hourly", "rendered"))
