"""Refresh token families: the hashes of refresh tokens already swapped, each with the session
(the family) it belonged to, so that presenting one again ends that session."""
import uuid

from peewee import CharField, DateTimeField, ForeignKeyField, Model, UUIDField


class Base(Model):
    class Meta:
        legacy_table_names = False


class Session(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class SpentRefreshToken(Base):
    refresh_hash = CharField(max_length=64, primary_key=True)
    session = ForeignKeyField(Session, on_delete="CASCADE")
    spent_at = DateTimeField()


def up(migrator, db):
    with db.bind_ctx([Session, SpentRefreshToken]):
        db.create_tables([SpentRefreshToken])


def down(migrator, db):
    with db.bind_ctx([Session, SpentRefreshToken]):
        db.drop_tables([SpentRefreshToken])
