"""Each process's last NTP clock-offset reading, for the health check."""
import uuid

from peewee import CharField, DateTimeField, FloatField, Model, TextField, UUIDField


class ClockReading(Model):
    id = UUIDField(primary_key=True, default=uuid.uuid4)
    role = CharField(max_length=32)
    instance = CharField(max_length=128)
    server = CharField(max_length=255)
    offset_seconds = FloatField(null=True)
    error = TextField(null=True)
    checked_at = DateTimeField()

    class Meta:
        legacy_table_names = False
        indexes = ((("role", "instance"), True),)


def up(migrator, db):
    with db.bind_ctx([ClockReading]):
        db.create_tables([ClockReading])


def down(migrator, db):
    with db.bind_ctx([ClockReading]):
        db.drop_tables([ClockReading])
