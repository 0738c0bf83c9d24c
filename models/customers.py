"""A signed-in customer's own profile: name, sign-in address, feedback, and leaving for good."""
from __future__ import annotations

import uuid

import peewee

from models import organisations, outbox, ratelimit
from models.accounts import (CHANGE_EMAIL, Customer, check_code, limit_code_mail, send_code,
                             spend_code)
from models.db import UtcDateTimeField, UUIDModel, database, serialized
from models.errors import Conflict
from models.organisations import Membership, Organisation, Team


class Feedback(UUIDModel):
    customer = peewee.ForeignKeyField(Customer, null=True, on_delete="SET NULL")
    organisation = peewee.ForeignKeyField(Organisation, null=True, on_delete="SET NULL")
    text = peewee.TextField()
    created_at = UtcDateTimeField()


class AccountDeletion(UUIDModel):
    """Why an account left, kept for the organisation's records after the account is gone."""
    organisation = peewee.ForeignKeyField(Organisation, null=True, on_delete="SET NULL")
    customer_id = peewee.UUIDField()
    email = peewee.CharField(max_length=254)
    reason = peewee.TextField()
    deleted_at = UtcDateTimeField()


def update_profile(caller, *, name: str | None, surname: str | None) -> Customer:
    changes = {field: value for field, value in (("name", name), ("surname", surname))
               if value is not None}
    if changes:
        Customer.update(**changes).where(Customer.id == caller.customer.id).execute()
    return Customer.get_by_id(caller.customer.id)


def request_email_change(caller, *, email: str, settings, now) -> None:
    """Mails a code to the new address; the sign-in address changes only once it is confirmed.
    An address another account signs in with gets a notice instead, and the caller the same
    answer, so the endpoint tells no one who has an account (only the address's owner learns
    it). Rate limited per account and per address mailed (`limit_code_mail`)."""
    email = email.lower()
    ratelimit.hit(settings.code_send_rate_limit, "code-send-customer", str(caller.customer.id))
    limit_code_mail(email, settings=settings)
    if email == caller.customer.email:
        raise Conflict("This is already your sign-in address.", fields={"email": "unchanged"},
                       code="email_unchanged")
    # read before the transaction, which then starts by writing: on SQLite a transaction
    # that read first cannot wait for the write lock (SQLITE_BUSY if a worker wrote meanwhile)
    taken = Customer.select().where(Customer.email == email).exists()
    with database.atomic():
        if taken:
            # each request is a notice of its own (no code to key it by)
            outbox.queue(key=f"address-taken:{uuid.uuid4()}", type="email", address=email,
                         kind="notice", subject=_TAKEN_SUBJECT, body=_TAKEN_BODY, now=now)
        else:
            send_code(caller.customer, CHANGE_EMAIL, settings=settings, now=now, target=email)


_TAKEN_SUBJECT = "Your address and Pinghome"
_TAKEN_BODY = ("Hello,\n\nSomeone signed in to Pinghome asked to make this address the sign-in "
               "address of their account. It is the sign-in address of an account already, so "
               "it cannot be; nothing has changed. If it was you, sign in with this address "
               "instead. If it was not, ignore this mail.\n")


def confirm_email_change(caller, *, code: str, settings, now) -> Customer:
    """Makes the address the last code was mailed to the sign-in address."""
    customer = caller.customer
    ratelimit.hit(settings.code_rate_limit, "code-check", str(customer.id))
    checked = check_code(customer, CHANGE_EMAIL, code, field="code", settings=settings, now=now)
    try:
        with database.atomic():
            spend_code(checked, field="code", now=now)
            Customer.update(email=checked.target).where(Customer.id == customer.id).execute()
    except peewee.IntegrityError:
        raise Conflict("Another account took this address meanwhile.", fields={"code": "taken"},
                       code="email_taken") from None
    return Customer.get_by_id(customer.id)


def submit_feedback(caller, *, text: str, now) -> Feedback:
    return Feedback.create(customer=caller.customer.id, organisation=caller.organisation_id,
                           text=text, created_at=now)


def delete_account(caller, *, reason: str, now) -> None:
    """Deletes the caller's account, its sessions, personal channels and memberships, keeping
    the reason. The organisation goes too when the caller was its only member.

    Refused (409, saying what to do first) while the caller is the last owner of a team that
    has other members, or the only member of a team that still owns services.
    """
    customer = caller.customer
    with serialized():
        teams = organisations.teams_of(customer)
        for team, role in teams:
            _check_can_leave(team, role, customer)
        alone = not organisations.organisation_members(customer.organisation_id).where(
            Membership.customer != customer.id).exists()
        AccountDeletion.create(organisation=None if alone else customer.organisation_id,
                               customer_id=customer.id, email=customer.email, reason=reason,
                               deleted_at=now)
        if alone:
            organisations.delete_organisation(customer.organisation_id)
            return
        for team, _ in teams:
            if _members(team) == 1:
                Team.delete().where(Team.id == team.id).execute()
        Customer.delete().where(Customer.id == customer.id).execute()


def _members(team) -> int:
    return Membership.select().where(Membership.team == team).count()


def _check_can_leave(team, role, customer) -> None:
    members = _members(team)
    if role == "owner" and members > 1:
        owners = Membership.select().where(Membership.team == team,
                                           Membership.role == "owner").count()
        if owners == 1:
            raise Conflict(f"You are the last owner of team '{team.name}', which has other "
                           "members: make one of them an owner (PATCH /v1/team/{id}/member/"
                           "{memberId}) or remove them first.", code="last_owner")
    if members == 1 and team.services.exists() and _others_in_organisation(customer):
        raise Conflict(f"Team '{team.name}' still owns services and you are its only member: "
                       "delete the services or invite an owner first.", code="team_not_empty")


def _others_in_organisation(customer) -> bool:
    return organisations.organisation_members(customer.organisation_id).where(
        Membership.customer != customer.id).exists()
