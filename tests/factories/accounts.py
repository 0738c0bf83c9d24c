"""Accounts for tests: plain functions with defaults, keyword overrides and unique emails."""
from __future__ import annotations

import itertools
import re

from models import accounts, clock
from models.outbox import Delivery

_numbers = itertools.count(1)
PASSWORD = "correct-horse-1"


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_numbers)}@example.com"


def make_customer(settings, *, email: str | None = None, password: str = PASSWORD,
                  name: str = "Alice", surname: str = "Liddell", confirmed: bool = True):
    customer = accounts.sign_up(name=name, surname=surname, email=email or unique_email(),
                                password=password, settings=settings, now=clock.now(), ip=None)
    if confirmed:
        accounts.confirm_account(email=customer.email, code=code_from_outbox(customer.email),
                                 settings=settings, now=clock.now(), ip=None)
    return accounts.Customer.get_by_id(customer.id)


def sign_in(settings, customer, password: str = PASSWORD) -> accounts.IssuedTokens:
    _, tokens = accounts.sign_in(email=customer.email, password=password, settings=settings,
                                 now=clock.now())
    return tokens


def code_from_outbox(email: str) -> str:
    """The code in the newest message to `email`, read from the outbox as an operator would."""
    row = (Delivery.select().where(Delivery.type == "email", Delivery.kind == "code",
                                   Delivery.address == email.lower())
           .order_by(Delivery.created_at.desc()).first())
    assert row is not None, f"no mail to {email}"
    return re.search(r"\b(\d{6})\b", row.body).group(1)


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
