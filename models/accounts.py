"""Accounts: sign-up and confirmation, sign-in sessions, password recovery and change.

Passwords are hashed with argon2 (argon2-cffi). Tokens and one-time codes are random secrets of
which only an HMAC (keyed with the secret key) is stored, so a copy of the database signs no
one in.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import secrets
import typing

import argon2
import peewee

from models import outbox, ratelimit
from models.db import BaseModel, UtcDateTimeField, UUIDModel, database
from models.errors import (CodeExpired, CodeInvalid, Conflict, Invalid, NotConfirmed,
                           NotFound, TooManyRequests, Unauthenticated)
from models.organisations import Organisation, create_organisation, create_team, teams_of

_hasher = argon2.PasswordHasher()
# Verified when the email is unknown, so a wrong email costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

CONFIRM_ACCOUNT = "confirm_account"
RECOVER_PASSWORD = "recover_password"
CHANGE_EMAIL = "change_email"


class Customer(UUIDModel):
    organisation = peewee.ForeignKeyField(Organisation, backref="customers", on_delete="CASCADE")
    email = peewee.CharField(max_length=254, unique=True)
    name = peewee.CharField(max_length=100)
    surname = peewee.CharField(max_length=100)
    password_hash = peewee.CharField(max_length=255)
    created_at = UtcDateTimeField()
    confirmed_at = UtcDateTimeField(null=True)
    password_changed_at = UtcDateTimeField()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None


class Session(UUIDModel):
    customer = peewee.ForeignKeyField(Customer, backref="sessions", on_delete="CASCADE")
    access_hash = peewee.CharField(max_length=64, unique=True)
    refresh_hash = peewee.CharField(max_length=64, unique=True)
    access_expires_at = UtcDateTimeField()
    refresh_expires_at = UtcDateTimeField(index=True)
    created_at = UtcDateTimeField()
    revoked_at = UtcDateTimeField(null=True)
    ip = peewee.CharField(max_length=64, null=True)
    user_agent = peewee.CharField(max_length=255, null=True)


class SpentRefreshToken(BaseModel):
    """A refresh token swapped already (its hash), and the session it belonged to. A session
    is one token family: rotation moves the row on, and this is how a replay is recognised."""
    refresh_hash = peewee.CharField(max_length=64, primary_key=True)
    session = peewee.ForeignKeyField(Session, backref="spent_tokens", on_delete="CASCADE")
    spent_at = UtcDateTimeField()


class OneTimeCode(UUIDModel):
    customer = peewee.ForeignKeyField(Customer, backref="codes", on_delete="CASCADE")
    purpose = peewee.CharField(max_length=32)
    code_hash = peewee.CharField(max_length=64)
    target = peewee.CharField(max_length=254, null=True)
    created_at = UtcDateTimeField()
    expires_at = UtcDateTimeField(index=True)
    attempts = peewee.IntegerField(default=0)
    used_at = UtcDateTimeField(null=True)


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who is calling: the signed-in customer and the session the token belongs to. An API
    key calls as `api_keys.KeyCaller`, which answers the same questions but has no person."""
    customer: Customer
    session_id: object
    # a person's role is per team, from their memberships (`models.organisations`)
    key_role: typing.ClassVar[None] = None

    @property
    def organisation_id(self):
        return self.customer.organisation_id

    @property
    def actor_id(self):
        """Whom a change is attributed to (incident timelines, `updated_by`)."""
        return self.customer.id

    @property
    def actor_name(self) -> str:
        return f"{self.customer.name} {self.customer.surname}"

    @property
    def actor_ref(self) -> str:
        """The actor as a string no other caller has (idempotency keys)."""
        return str(self.customer.id)


@dataclasses.dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    access_expires_at: dt.datetime
    refresh_expires_at: dt.datetime


# -- sign-up and confirmation ---------------------------------------------------------------

def sign_up(*, name: str, surname: str, email: str, password: str, settings, now,
            ip: str | None) -> Customer:
    """Creates an unconfirmed account with its organisation and first team (as owner), and
    mails a confirmation code. A taken email is a `Conflict`, also under a race (unique key).

    Rate limited per client address (`ip`), and the code mail counts against the address it
    goes to, as resends do, so sign-ups cannot be used to mail strangers."""
    email = email.lower()
    ratelimit.hit_client(settings.sign_up_rate_limit, "sign-up-ip", ip)
    limit_code_mail(email, settings=settings)
    if Customer.select().where(Customer.email == email).exists():
        raise _email_taken()
    try:
        with database.atomic():
            organisation = create_organisation(name=f"{name} {surname}".strip(),
                                               plan=settings.default_plan, now=now)
            customer = Customer.create(
                organisation=organisation, email=email, name=name, surname=surname,
                password_hash=_hasher.hash(password), created_at=now, password_changed_at=now)
            create_team(organisation, name="My team", owner=customer, now=now)
            send_code(customer, CONFIRM_ACCOUNT, settings=settings, now=now)
    except peewee.IntegrityError:
        raise _email_taken() from None
    return customer


def _email_taken() -> Conflict:
    return Conflict("An account with this email already exists; sign in, or ask for a new "
                    "confirmation code if it is not confirmed yet.",
                    fields={"email": "already registered"}, code="email_taken")


def confirm_account(*, email: str, code: str, settings, now, ip: str | None) -> Customer:
    """Confirms the account if `code` is its latest, unexpired, unused confirmation code.

    Rate limited by email and by the client's address (`ip`). Every failure answers alike,
    for an unknown address and an account confirmed already too (see `_check_anonymously`)."""
    email = email.lower()
    _limit_code_checks(email, ip, settings=settings)
    customer = Customer.get_or_none(Customer.email == email)
    if customer is not None and customer.is_confirmed:
        customer = None        # nothing to confirm: answered as for an unknown address
    checked = _check_anonymously(customer, CONFIRM_ACCOUNT, code, field="confirmation_code",
                                 settings=settings, now=now)
    with database.atomic():
        spend_code(checked, field="confirmation_code", now=now)
        Customer.update(confirmed_at=now).where(Customer.id == customer.id).execute()
    return Customer.get_by_id(customer.id)


def resend_confirmation(*, email: str, settings, now, ip: str | None) -> None:
    """Mails a new confirmation code (the old one stops working) if the account exists and is
    unconfirmed; answers the same either way, so the endpoint tells no one who has an account.
    Rate limited per client address and per address mailed, alike for unknown addresses."""
    email = email.lower()
    _limit_code_requests(email, ip, settings=settings)
    customer = Customer.get_or_none(Customer.email == email)
    if customer is None or customer.is_confirmed:
        return
    with database.atomic():
        send_code(customer, CONFIRM_ACCOUNT, settings=settings, now=now)


# -- sessions -------------------------------------------------------------------------------

def sign_in(*, email: str, password: str, settings, now, ip: str | None = None,
            user_agent: str | None = None) -> tuple[Customer, IssuedTokens]:
    """Checks the credentials and opens a session. Rate limited by email and by address."""
    email = email.lower()
    ratelimit.hit(settings.sign_in_rate_limit, "sign-in", email)
    ratelimit.hit_client(settings.sign_in_rate_limit, "sign-in-ip", ip)
    customer = Customer.get_or_none(Customer.email == email)
    if not _password_matches(customer, password):
        raise Unauthenticated("Wrong email or password.", code="wrong_credentials")
    if not customer.is_confirmed:
        raise NotConfirmed("This account is not confirmed yet: enter the code we mailed you "
                           "(PATCH /v1/account), or ask for a new one.")
    return customer, _open_session(customer, settings=settings, now=now, ip=ip,
                                   user_agent=user_agent)


def refresh_session(*, refresh_token: str, settings, now) -> tuple[Customer, IssuedTokens]:
    """Swaps a refresh token for a new pair; the old pair stops working (rotation).

    The session is the token family. A refresh token presented again after it was swapped
    means two holders have it, one of them a thief: the session ends, so the pair it was
    swapped into (whoever holds it) stops working too, and its owner signs in again."""
    presented = digest(settings, refresh_token)
    session = (Session.select(Session, Customer).join(Customer)
               .where(Session.refresh_hash == presented,
                      Session.revoked_at.is_null(), Session.refresh_expires_at > now)
               .first())
    if session is None:
        spent = SpentRefreshToken.get_or_none(SpentRefreshToken.refresh_hash == presented)
        if spent is not None:
            _end_family(spent.session_id, now=now)
            raise _replayed()
        raise Unauthenticated("The refresh token is invalid, expired or revoked; sign in again.",
                              code="invalid_token")
    tokens = _new_tokens(settings, now)
    with database.atomic():
        rotated = (Session.update(access_hash=digest(settings, tokens.access_token),
                                  refresh_hash=digest(settings, tokens.refresh_token),
                                  access_expires_at=tokens.access_expires_at,
                                  refresh_expires_at=tokens.refresh_expires_at)
                   .where(Session.id == session.id, Session.refresh_hash == presented,
                          Session.revoked_at.is_null())
                   .execute())
        if rotated == 1:
            SpentRefreshToken.create(refresh_hash=presented, session=session.id, spent_at=now)
    if rotated != 1:   # a concurrent refresh with the same token won: a replay too
        _end_family(session.id, now=now)
        raise _replayed()
    return session.customer, tokens


def _end_family(session_id, *, now) -> None:
    Session.update(revoked_at=now).where(Session.id == session_id,
                                         Session.revoked_at.is_null()).execute()


def _replayed() -> Unauthenticated:
    return Unauthenticated("This refresh token was used already, so someone else may hold it: "
                           "its session has ended; sign in again.", code="invalid_token")


def authenticate(token: str, *, settings, now) -> Caller:
    """The caller a bearer token belongs to; `Unauthenticated` if unknown, expired or revoked."""
    session = (Session.select(Session, Customer).join(Customer)
               .where(Session.access_hash == digest(settings, token),
                      Session.revoked_at.is_null(), Session.access_expires_at > now)
               .first())
    if session is None:
        raise Unauthenticated("The token is invalid, expired or revoked; sign in again.",
                              code="invalid_token")
    return Caller(customer=session.customer, session_id=session.id)


def sign_out(caller: Caller, *, now) -> None:
    """Revokes the caller's session: its token stops working at once."""
    Session.update(revoked_at=now).where(Session.id == caller.session_id,
                                         Session.revoked_at.is_null()).execute()


# -- passwords ------------------------------------------------------------------------------

def request_password_recovery(*, email: str, settings, now, ip: str | None) -> None:
    """Mails a recovery code if the account exists; answers the same either way. Rate limited
    per client address and per address mailed, alike for unknown addresses."""
    email = email.lower()
    _limit_code_requests(email, ip, settings=settings)
    customer = Customer.get_or_none(Customer.email == email)
    if customer is None:
        return
    with database.atomic():
        send_code(customer, RECOVER_PASSWORD, settings=settings, now=now)


def recover_password(*, email: str, code: str, password: str, settings, now,
                     ip: str | None) -> None:
    """Sets a new password with a mailed recovery code and ends every session of the account.
    The code proves the address, so an unconfirmed account becomes confirmed.

    Rate limited by email and by the client's address (`ip`); a code dies after its
    attempts, from whichever addresses they came. Every failure answers alike, for an
    unknown address too (see `_check_anonymously`)."""
    email = email.lower()
    _limit_code_checks(email, ip, settings=settings)
    customer = Customer.get_or_none(Customer.email == email)
    checked = _check_anonymously(customer, RECOVER_PASSWORD, code, field="code",
                                 settings=settings, now=now)
    with database.atomic():
        spend_code(checked, field="code", now=now)
        _set_password(customer, password, now=now)
        (Customer.update(confirmed_at=peewee.fn.COALESCE(Customer.confirmed_at, now))
         .where(Customer.id == customer.id).execute())
        _revoke_sessions(customer, now=now)


def change_password(caller: Caller, *, previous_password: str, proposed_password: str,
                    settings, now) -> None:
    """Replaces the password after checking the current one; ends every other session."""
    customer = caller.customer
    ratelimit.hit(settings.sign_in_rate_limit, "password-change", str(customer.id))
    if not _password_matches(customer, previous_password):
        raise Invalid("The current password is wrong.",
                      fields={"previous_password": "does not match the current password"},
                      code="wrong_password")
    if previous_password == proposed_password:
        raise Invalid("The new password must differ from the current one.",
                      fields={"proposed_password": "same as the current password"})
    with database.atomic():
        _set_password(customer, proposed_password, now=now)
        _revoke_sessions(customer, now=now, keep=caller.session_id)


def get_customer(caller: Caller, customer_id) -> Customer:
    """A customer of the caller's organisation; `NotFound` for anyone else's."""
    customer = Customer.get_or_none(Customer.id == customer_id,
                                    Customer.organisation == caller.organisation_id)
    if customer is None:
        raise NotFound("No such customer.")
    return customer


def purge_expired(*, now) -> int:
    """Deletes sessions and codes that can no longer be used, a day after they stopped
    working (kept that long to explain a just-expired token). Safe to repeat."""
    cutoff = now - dt.timedelta(days=1)
    sessions = Session.delete().where((Session.refresh_expires_at < cutoff)
                                      | (Session.revoked_at < cutoff)).execute()
    codes = OneTimeCode.delete().where((OneTimeCode.expires_at < cutoff)
                                       | (OneTimeCode.used_at < cutoff)).execute()
    return sessions + codes


def memberships(customer: Customer):
    return teams_of(customer)


# -- internals ------------------------------------------------------------------------------

def _password_matches(customer: Customer | None, password: str) -> bool:
    try:
        _hasher.verify(customer.password_hash if customer else _DUMMY_HASH, password)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False
    if customer is None:
        return False
    if _hasher.check_needs_rehash(customer.password_hash):
        Customer.update(password_hash=_hasher.hash(password)).where(
            Customer.id == customer.id).execute()
    return True


def _set_password(customer: Customer, password: str, *, now) -> None:
    (Customer.update(password_hash=_hasher.hash(password), password_changed_at=now)
     .where(Customer.id == customer.id).execute())


def _revoke_sessions(customer: Customer, *, now, keep=None) -> None:
    query = Session.update(revoked_at=now).where(Session.customer == customer,
                                                 Session.revoked_at.is_null())
    if keep is not None:
        query = query.where(Session.id != keep)
    query.execute()


def _open_session(customer, *, settings, now, ip, user_agent) -> IssuedTokens:
    tokens = _new_tokens(settings, now)
    Session.create(customer=customer, access_hash=digest(settings, tokens.access_token),
                   refresh_hash=digest(settings, tokens.refresh_token),
                   access_expires_at=tokens.access_expires_at,
                   refresh_expires_at=tokens.refresh_expires_at, created_at=now,
                   ip=(ip or None) and ip[:64],
                   user_agent=(user_agent or None) and user_agent[:255])
    return tokens


def _new_tokens(settings, now) -> IssuedTokens:
    return IssuedTokens(
        access_token=secrets.token_urlsafe(32), refresh_token=secrets.token_urlsafe(32),
        access_expires_at=now + dt.timedelta(seconds=settings.access_token_ttl_seconds),
        refresh_expires_at=now + dt.timedelta(seconds=settings.refresh_token_ttl_seconds))


def digest(settings, secret: str) -> str:
    """The HMAC (keyed with the secret key) stored in place of a token, code or API key."""
    return hmac.new(settings.secret_key.encode(), secret.encode(), hashlib.sha256).hexdigest()


_CODE_MAIL = {
    CONFIRM_ACCOUNT: ("Your Pinghome confirmation code",
                      "Welcome to Pinghome, {name}.\n\nYour confirmation code is {code}. "
                      "It expires in {minutes} minutes.\n"),
    CHANGE_EMAIL: ("Confirm your new Pinghome sign-in address",
                   "Hello {name},\n\nTo make this address your Pinghome sign-in, enter the code "
                   "{code}. It expires in {minutes} minutes.\n"),
    RECOVER_PASSWORD: ("Your Pinghome password recovery code",
                       "Hello {name},\n\nYour password recovery code is {code}. "
                       "It expires in {minutes} minutes.\nIf you did not ask for it, "
                       "ignore this mail: your password stays as it is.\n"),
}


def send_code(customer: Customer, purpose: str, *, settings, now,
              target: str | None = None) -> None:
    """Issues a new 6-digit code (earlier unused ones of the same purpose stop working) and
    mails it, to `target` when given (a new address to prove). Call inside a transaction: the
    mail goes out only if the code is stored."""
    (OneTimeCode.update(used_at=now)
     .where(OneTimeCode.customer == customer, OneTimeCode.purpose == purpose,
            OneTimeCode.used_at.is_null()).execute())
    code = f"{secrets.randbelow(1_000_000):06d}"
    issued = OneTimeCode.create(
        customer=customer, purpose=purpose, target=target,
        code_hash=_code_digest(settings, customer, purpose, code), created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.code_ttl_seconds))
    subject, body = _CODE_MAIL[purpose]
    outbox.queue(key=f"code:{issued.id}", type="email", address=target or customer.email,
                 kind="code", subject=subject,
                 body=body.format(name=customer.name, code=code,
                                  minutes=settings.code_ttl_seconds // 60), now=now)


def _code_digest(settings, customer, purpose, code) -> str:
    return digest(settings, f"{purpose}:{customer.id}:{code}")


def check_code(customer, purpose, code, *, field, settings, now) -> OneTimeCode:
    """Spends one attempt on the latest code of `purpose` and answers it if `code` matches.

    Call outside a transaction: the attempt must stick even when the check fails. It is
    counted by a conditional update, so parallel guesses cannot pass the limit.
    """
    latest = (OneTimeCode.select().where(OneTimeCode.customer == customer,
                                         OneTimeCode.purpose == purpose)
              .order_by(OneTimeCode.created_at.desc()).first())
    if latest is None or latest.used_at is not None:
        raise CodeInvalid("This code was already used or replaced by a newer one; ask for a "
                          "new code.", fields={field: "already used"})
    if latest.expires_at <= now:
        raise CodeExpired("This code has expired; ask for a new one.", fields={field: "expired"})
    counted = (OneTimeCode.update(attempts=OneTimeCode.attempts + 1)
               .where(OneTimeCode.id == latest.id,
                      OneTimeCode.attempts < settings.code_max_attempts)
               .execute())
    if counted != 1:
        raise TooManyRequests("Too many wrong attempts with this code; ask for a new one.",
                              code="code_attempts_exhausted")
    if not hmac.compare_digest(latest.code_hash, _code_digest(settings, customer, purpose, code)):
        raise CodeInvalid("The code is wrong.", fields={field: "wrong"})
    return latest


def limit_code_mail(address: str, *, settings) -> None:
    """Counts one code mail to `address`, whichever route asks for it (sign-up, resend,
    recovery, sign-in address change), so no one can make us mail a stranger much."""
    ratelimit.hit(settings.code_send_rate_limit, "code-mail", address)


def _limit_code_requests(email: str, ip: str | None, *, settings) -> None:
    ratelimit.hit_client(settings.code_send_rate_limit, "code-send-ip", ip)
    limit_code_mail(email, settings=settings)


def _limit_code_checks(email: str, ip: str | None, *, settings) -> None:
    """Code guesses are counted per email and per client address, so one address cannot try
    codes for many accounts (each code also dies after `code_max_attempts`)."""
    ratelimit.hit(settings.code_rate_limit, "code-check", email)
    ratelimit.hit_client(settings.code_rate_limit, "code-check-ip", ip)


_ANONYMOUS_REFUSAL = "The code is wrong or has expired; ask for a new one."


def _check_anonymously(customer: Customer | None, purpose, code, *, field, settings,
                       now) -> OneTimeCode:
    """`check_code` for the endpoints anyone may call with any email (confirmation, recovery):
    an unknown account (`None`), no code, a used, replaced, expired or exhausted code and a
    wrong one all answer the same 422, so the answer tells no one who has an account. An
    unknown account runs the same lookup (it finds nothing), so the two take about as long."""
    try:
        return check_code(customer, purpose, code, field=field, settings=settings, now=now)
    except (CodeInvalid, CodeExpired, TooManyRequests):   # only the code's own refusals
        raise CodeInvalid(_ANONYMOUS_REFUSAL, fields={field: "wrong or expired"}) from None


def spend_code(checked: OneTimeCode, *, field, now) -> None:
    """Marks a checked code used; of two requests racing with the same code, one wins."""
    used = (OneTimeCode.update(used_at=now)
            .where(OneTimeCode.id == checked.id, OneTimeCode.used_at.is_null()).execute())
    if used != 1:
        raise CodeInvalid("This code was already used.", fields={field: "already used"})
