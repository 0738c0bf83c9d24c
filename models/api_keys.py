"""API keys: per-organisation secrets for scripts, as Healthchecks has them.

An owner makes a key `read-only` or `read-write`; it is shown once, and only its HMAC (keyed
with the secret key, as session tokens are: `accounts.digest`) is stored, beside a short prefix
that is no secret and lets people tell their keys apart. A key calls as a `KeyCaller`: it acts
in every team of its organisation with one role (`user` for read-only, `manager` for
read-write), which `models.organisations` answers from one place, so every endpoint's role
check holds for keys unchanged. A key is not a person: whatever needs one (the caller's
profile, sessions, personal channels, invitations to accept) refuses it with 403.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import peewee

from models import organisations
from models.accounts import Customer, digest
from models.db import UtcDateTimeField, UUIDModel
from models.errors import Forbidden, NotFound, Unauthenticated
from models.organisations import Organisation

PREFIX = "phk_"
KINDS = {"read-only": "user", "read-write": "manager"}    # kind -> the role it acts with
SHOWN_CHARACTERS = 8          # of the secret after `phk_`, kept as the key's visible prefix
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class ApiKey(UUIDModel):
    organisation = peewee.ForeignKeyField(Organisation, backref="api_keys", on_delete="CASCADE")
    name = peewee.CharField(max_length=100)
    kind = peewee.CharField(max_length=16)
    prefix = peewee.CharField(max_length=16)
    key_hash = peewee.CharField(max_length=64, unique=True)    # authentication's lookup
    created_by = peewee.ForeignKeyField(Customer, null=True, on_delete="SET NULL", backref="+")
    created_at = UtcDateTimeField()
    revoked_at = UtcDateTimeField(null=True)
    last_used_at = UtcDateTimeField(null=True)


@dataclasses.dataclass(frozen=True)
class KeyCaller:
    """A request made with an API key: its organisation and the role it holds in each of the
    organisation's teams. It has no customer and no session."""
    key_id: object
    key_name: str
    kind: str
    organisation_id: object

    @property
    def key_role(self) -> str:
        return KINDS[self.kind]

    @property
    def read_only(self) -> bool:
        return self.kind == "read-only"

    @property
    def actor_id(self):
        return None

    @property
    def actor_name(self) -> str:
        return f"API key '{self.key_name}'"

    @property
    def actor_ref(self) -> str:
        return f"api-key:{self.key_id}"

    @property
    def customer(self):
        raise _not_a_person()

    @property
    def session_id(self):
        raise _not_a_person()


def _not_a_person() -> Forbidden:
    return Forbidden("An API key is not a person: sign in to use your own account, sessions "
                     "and personal channels.", code="person_required")


def is_api_key(token: str) -> bool:
    """Whether a bearer token is meant as an API key (anything else is a session token)."""
    return token.startswith(PREFIX)


# -- owners' operations ---------------------------------------------------------------------

def create_key(caller, *, name: str, kind: str, settings, now) -> tuple[ApiKey, str]:
    """A new key of the caller's organisation (owners of one of its teams) and its secret,
    which is answered this once and never stored."""
    organisations.ensure_owner_of_a_team(caller, "Making an API key")
    secret = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.create(organisation=caller.organisation_id, name=name, kind=kind,
                        prefix=secret[:len(PREFIX) + SHOWN_CHARACTERS],
                        key_hash=digest(settings, secret), created_by=caller.actor_id,
                        created_at=now)
    return key, secret


def list_keys(caller) -> list[ApiKey]:
    """The organisation's keys, revoked ones too, oldest first (owners)."""
    organisations.ensure_owner_of_a_team(caller, "Seeing the API keys")
    return list(ApiKey.select().where(ApiKey.organisation == caller.organisation_id)
                .order_by(ApiKey.created_at, ApiKey.id))


def revoke_key(caller, key_id, *, now) -> ApiKey:
    """Revokes the key (owners): it stops working at once. `NotFound` for another
    organisation's key; revoking a revoked key changes nothing."""
    organisations.ensure_owner_of_a_team(caller, "Revoking an API key")
    key = ApiKey.get_or_none(ApiKey.id == key_id, ApiKey.organisation == caller.organisation_id)
    if key is None:
        raise NotFound("No such API key.")
    ApiKey.update(revoked_at=now).where(ApiKey.id == key.id,
                                        ApiKey.revoked_at.is_null()).execute()
    return ApiKey.get_by_id(key.id)


# -- authentication -------------------------------------------------------------------------

def authenticate_key(secret: str, *, settings, now) -> KeyCaller:
    """The caller an API key stands for; `Unauthenticated` for an unknown or revoked key.
    Notes the use at most once a minute per key (a conditional update), so a busy script
    writes a row a minute, not one per request."""
    key = ApiKey.get_or_none(ApiKey.key_hash == digest(settings, secret),
                             ApiKey.revoked_at.is_null())
    if key is None:
        raise Unauthenticated("The API key is unknown or revoked.", code="invalid_token")
    if key.last_used_at is None or key.last_used_at <= now - LAST_USED_RESOLUTION:
        (ApiKey.update(last_used_at=now)
         .where(ApiKey.id == key.id, ApiKey.last_used_at.is_null()
                | (ApiKey.last_used_at <= now - LAST_USED_RESOLUTION))
         .execute())
    return KeyCaller(key_id=key.id, key_name=key.name, kind=key.kind,
                     organisation_id=key.organisation_id)
