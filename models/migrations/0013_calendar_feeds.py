"""Calendar feeds: one secret address per (kind, subject), its token kept as a hash."""
import uuid

from peewee import CharField, DateTimeField, ForeignKeyField, Model, UUIDField


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Organisation(UUIDBase):
    pass


class CalendarFeed(UUIDBase):
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    kind = CharField(max_length=32)
    subject = CharField(max_length=64)
    nonce = CharField(max_length=64)
    token_hash = CharField(max_length=64, unique=True)
    created_at = DateTimeField()

    class Meta:
        indexes = ((("kind", "subject"), True),)


NEW = [CalendarFeed]
REFERENCED = [Organisation]


def up(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.drop_tables(list(reversed(NEW)))
