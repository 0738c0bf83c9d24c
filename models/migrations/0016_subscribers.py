"""Status page subscribers (email or webhook), unique per page and channel."""
import uuid

from peewee import CharField, DateTimeField, ForeignKeyField, Model, UUIDField


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class StatusPage(UUIDBase):
    pass


class Subscriber(UUIDBase):
    page = ForeignKeyField(StatusPage, on_delete="CASCADE")
    channel_type = CharField(max_length=16)
    channel_value = CharField(max_length=2000)
    confirmed_at = DateTimeField(null=True)
    created_at = DateTimeField()

    class Meta:
        indexes = ((("page", "channel_type", "channel_value"), True),)


NEW = [Subscriber]
REFERENCED = [StatusPage]


def up(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.drop_tables(NEW)
