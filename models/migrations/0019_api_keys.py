"""API keys: per-organisation secrets for scripts, of which only an HMAC is stored (its unique
index is authentication's lookup)."""
import uuid

from peewee import CharField, DateTimeField, ForeignKeyField, Model, UUIDField


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Organisation(UUIDBase):
    pass


class Customer(UUIDBase):
    pass


class ApiKey(UUIDBase):
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    name = CharField(max_length=100)
    kind = CharField(max_length=16)
    prefix = CharField(max_length=16)
    key_hash = CharField(max_length=64, unique=True)
    created_by = ForeignKeyField(Customer, null=True, on_delete="SET NULL")
    created_at = DateTimeField()
    revoked_at = DateTimeField(null=True)
    last_used_at = DateTimeField(null=True)


NEW = [ApiKey]
REFERENCED = [Organisation, Customer]


def up(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.drop_tables(NEW)
