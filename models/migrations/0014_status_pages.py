"""Status pages, their component groups and components."""
import uuid

from peewee import (BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, Model,
                    TextField, UUIDField)


class Base(Model):
    class Meta:
        legacy_table_names = False


class UUIDBase(Base):
    id = UUIDField(primary_key=True, default=uuid.uuid4)


class Organisation(UUIDBase):
    pass


class StatusPage(UUIDBase):
    organisation = ForeignKeyField(Organisation, on_delete="CASCADE")
    name = CharField(max_length=200)
    description = TextField(null=True)
    subdomain = CharField(max_length=63, unique=True)
    domain = CharField(max_length=253, null=True, unique=True)
    type = CharField(max_length=16, default="public")
    password_hash = CharField(max_length=200, null=True)
    ip_addresses = TextField()
    enabled = BooleanField(default=True)
    page_name = CharField(max_length=200, null=True)
    dark_theme = BooleanField(default=False)
    favicon = CharField(max_length=500, null=True)
    logo = CharField(max_length=500, null=True)
    redirect_to_https = BooleanField(default=True)
    remove_branding = BooleanField(default=False)
    robots_meta_contents = TextField()
    website_url = CharField(max_length=2000, null=True)
    privacy_url = CharField(max_length=2000, null=True)
    support_url = CharField(max_length=2000, null=True)
    ga_tracking = CharField(max_length=64, null=True)
    subscription_enabled = BooleanField(default=False)
    created_at = DateTimeField()
    updated_at = DateTimeField()


class ComponentGroup(UUIDBase):
    page = ForeignKeyField(StatusPage, on_delete="CASCADE")
    name = CharField(max_length=200)
    position = IntegerField()


class Component(UUIDBase):
    page = ForeignKeyField(StatusPage, on_delete="CASCADE")
    group = ForeignKeyField(ComponentGroup, null=True, on_delete="CASCADE")
    name = CharField(max_length=200)
    description = TextField(null=True)
    type = CharField(max_length=16)
    subject_id = UUIDField(null=True)
    manual_status = CharField(max_length=32, default="operational")
    position = IntegerField()
    created_at = DateTimeField()

    class Meta:
        indexes = ((("type", "subject_id"), False),)


NEW = [StatusPage, ComponentGroup, Component]
REFERENCED = [Organisation]


def up(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.create_tables(NEW)


def down(migrator, db):
    with db.bind_ctx(NEW + REFERENCED):
        db.drop_tables(list(reversed(NEW)))
