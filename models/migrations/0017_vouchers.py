"""Vouchers, and the plan an organisation is granted for a time (until `plan_until`, then
back on `plan_after`)."""
import uuid

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, Model, UUIDField


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Organisation(UUIDBase):
    pass


class Voucher(UUIDBase):
    code = CharField(max_length=17, unique=True)
    plan = CharField(max_length=32)
    plan_version = CharField(max_length=16)
    months = IntegerField()
    created_at = DateTimeField()
    expires_at = DateTimeField()
    used_by = ForeignKeyField(Organisation, null=True, on_delete="SET NULL")
    used_at = DateTimeField(null=True)


NEW = [Voucher]
REFERENCED = [Organisation]


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("organisation", "plan_until", DateTimeField(null=True)),
        migrator.add_column("organisation", "plan_after", CharField(max_length=32, null=True)),
        migrator.add_column("organisation", "plan_after_version",
                            CharField(max_length=16, null=True)),
        migrator.add_index("organisation", ("plan_until",), False))
    with db.bind_ctx(NEW + REFERENCED):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.drop_tables(NEW)
    migrator.migrate(
        migrator.drop_index("organisation", "organisation_plan_until"),
        migrator.drop_column("organisation", "plan_after_version"),
        migrator.drop_column("organisation", "plan_after"),
        migrator.drop_column("organisation", "plan_until"))
