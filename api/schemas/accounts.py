"""Request declarations and answer shapes of accounts and sign-in (endpoints 1-8)."""
from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from api.schemas.base import AnyPassword, Body, Code, Email, Name, NewPassword
from models import accounts
from models.clock import isoformat


class SignUp(Body):
    name: Name
    surname: Name
    email: Email
    password: NewPassword


class Confirmation(Body):
    email: Email
    confirmation_code: Code


class EmailOnly(Body):
    email: Email


class SignIn(Body):
    email: Email
    password: AnyPassword


class Refresh(Body):
    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class RecoveryConfirmation(Body):
    email: Email
    code: Code
    password: NewPassword


class PasswordChange(Body):
    previous_password: AnyPassword
    proposed_password: NewPassword


def account_out(customer: accounts.Customer) -> dict:
    teams = accounts.memberships(customer)
    return {
        "id": str(customer.id),
        "email": customer.email,
        "name": customer.name,
        "surname": customer.surname,
        "confirmed": customer.is_confirmed,
        "created_at": isoformat(customer.created_at),
        "organisation_id": str(customer.organisation_id),
        "teams": [{"id": str(team.id), "name": team.name, "role": role} for team, role in teams],
    }


def tokens_out(customer: accounts.Customer, tokens: accounts.IssuedTokens, now) -> dict:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": int((tokens.access_expires_at - now).total_seconds()),
        "expires_at": isoformat(tokens.access_expires_at),
        "refresh_expires_at": isoformat(tokens.refresh_expires_at),
        "account": account_out(customer),
    }
