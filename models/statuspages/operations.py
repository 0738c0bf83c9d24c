"""Status pages (endpoints 102-104, 106, 108-111): created, changed, listed and deleted by the
organisation's people.

A page belongs to the organisation, not to a team (the seed's bodies name none): everyone in
the organisation reads its pages; a manager or owner of one of its teams changes them.
Another organisation's page is `NotFound`, like one that does not exist.
"""
from __future__ import annotations

import contextlib

import argon2
import peewee

from models import organisations, usage
from models.db import database, serialized
from models.errors import Conflict, Invalid, NotFound
from models.organisations import Organisation
from models.statuspages import components as parts
from models.statuspages import status
from models.statuspages.tables import Component, ComponentGroup, StatusPage

_hasher = argon2.PasswordHasher()
# the columns a create or update sets straight from its field of the same name
PLAIN = ("name", "description", "subdomain", "domain", "type", "ip_addresses", "page_name",
         "dark_theme", "favicon", "logo", "redirect_to_https", "remove_branding",
         "robots_meta_contents", "website_url", "privacy_url", "support_url", "ga_tracking",
         "subscription_enabled")
# the columns a page always has a value in
REQUIRED = ("name", "subdomain", "type", "ip_addresses", "dark_theme", "redirect_to_https",
            "remove_branding", "robots_meta_contents", "subscription_enabled")
_DEFAULTS = {"ip_addresses": [], "robots_meta_contents": []}


def create_page(caller, fields: dict, *, now) -> StatusPage:
    """A page of the caller's organisation with its groups and components; `Conflict` for a
    subdomain or domain another page has, `Invalid` for a component whose subject is not the
    organisation's. All or nothing."""
    ensure_writer(caller)
    # a null given for an optional field means its default
    columns = {**_DEFAULTS, **{name: fields[name] for name in PLAIN
                               if fields.get(name) is not None}}
    if fields.get("password"):
        columns["password_hash"] = _hasher.hash(fields["password"])
    _admits_someone(columns.get("type", "public"), columns.get("password_hash"),
                    columns["ip_addresses"])
    with _unique(columns):
        with serialized():
            usage.ensure_room(Organisation.get_by_id(caller.organisation_id), "status_pages")
            page = StatusPage.create(organisation=caller.organisation_id, **columns,
                                     created_at=now, updated_at=now)
            parts.replace(page, fields.get("components") or [], fields.get("groups") or [],
                          now=now)
    return page


def update_page(caller, page_id, fields: dict, *, now) -> StatusPage:
    """Changes the fields given; the others stay. `components` and `groups`, when given,
    replace the page's (when absent, they stay). The password changes only with
    `update_password: true` (an empty one removes it)."""
    page = page_for(caller, page_id, write=True)
    columns = {name: fields[name] for name in PLAIN if name in fields}
    cleared = sorted(name for name in REQUIRED if name in columns and columns[name] is None)
    if cleared:
        raise Invalid("These fields cannot be cleared.",
                      fields={name: "must not be null" for name in cleared})
    if fields.get("update_password"):
        password = fields.get("password")
        columns["password_hash"] = _hasher.hash(password) if password else None
    _admits_someone(columns.get("type", page.type),
                    columns.get("password_hash", page.password_hash),
                    columns.get("ip_addresses", page.ip_addresses))
    with _unique(columns, page.id):
        with database.atomic():
            StatusPage.update(**columns, updated_at=now).where(
                StatusPage.id == page.id).execute()
            if "components" in fields or "groups" in fields:
                parts.replace(page, fields.get("components") or [], fields.get("groups") or [],
                              now=now)
    return StatusPage.get_by_id(page.id)


def set_enabled(caller, page_id, *, enabled: bool, now) -> StatusPage:
    page = page_for(caller, page_id, write=True)
    StatusPage.update(enabled=enabled, updated_at=now).where(StatusPage.id == page.id).execute()
    return StatusPage.get_by_id(page.id)


def delete_page(caller, page_id) -> None:
    """Deletes the page with its groups and components."""
    page = page_for(caller, page_id, write=True)
    with database.atomic():
        Component.delete().where(Component.page == page.id).execute()
        ComponentGroup.delete().where(ComponentGroup.page == page.id).execute()
        StatusPage.delete().where(StatusPage.id == page.id).execute()


def list_pages(caller) -> list[StatusPage]:
    """The organisation's pages, oldest first."""
    return list(StatusPage.select().where(StatusPage.organisation == caller.organisation_id)
                .order_by(StatusPage.created_at, StatusPage.id))


def page_for(caller, page_id, *, write: bool = False) -> StatusPage:
    """The page if it is the caller's organisation's (`NotFound` otherwise); with `write`,
    `Forbidden` for a caller who manages none of its teams."""
    page = StatusPage.get_or_none(StatusPage.id == page_id)
    if page is None or str(page.organisation_id) != str(caller.organisation_id):
        raise NotFound("No such status page.")
    if write:
        ensure_writer(caller)
    return page


def component_for(caller, component_id) -> Component:
    component = Component.get_or_none(Component.id == component_id)
    if component is None:
        raise NotFound("No such component.")
    try:
        page_for(caller, component.page_id)
    except NotFound:
        raise NotFound("No such component.") from None
    return component


def contents(page: StatusPage, *, now) -> tuple[list, list, dict]:
    """The page's groups and components in order, and what each component shows at `now`."""
    groups = list(page.groups.order_by(ComponentGroup.position))
    found = list(page.components.order_by(Component.position))
    return groups, found, status.statuses(found, page.organisation_id, now=now)


def ensure_writer(caller) -> None:
    """Changing a page takes a manager or owner of one of the organisation's teams."""
    organisations.ensure_role_in_a_team(caller, "manager", "Changing a status page")


def _admits_someone(page_type: str, password_hash, ip_addresses) -> None:
    """A private page admits by its password and/or its addresses: one with neither would
    admit nobody."""
    if page_type == "private" and not password_hash and not ip_addresses:
        raise Invalid("A private page needs a password or IP addresses to admit.",
                      fields={"password": "required for a private page without ip_addresses"})


@contextlib.contextmanager
def _unique(columns: dict, page_id=None):
    """Refuses a subdomain or domain another page holds (`Conflict`): checked first for a
    message naming the field, and by the unique indexes for two writers at once."""
    for name in ("subdomain", "domain"):
        if columns.get(name) is None:
            continue
        others = StatusPage.select().where(getattr(StatusPage, name) == columns[name])
        if page_id is not None:
            others = others.where(StatusPage.id != page_id)
        if others.exists():
            raise Conflict(f"That {name} belongs to another status page.",
                           fields={name: "taken"})
    try:
        yield
    except peewee.IntegrityError:
        raise Conflict("That subdomain or domain belongs to another status page.",
                       fields={"subdomain": "taken, or the domain is"}) from None
