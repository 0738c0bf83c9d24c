"""Contacts: the integer ids the OCS API names the organisation's members by (`GET
/api/contacts/`, layers' `contacts`, on-demand shifts' `contact`, computed shifts' `c`).

A member gets their contact row the first time the organisation's contacts are listed
(insert-or-ignore on the customer, so two requests at once make one row). A contact is the
organisation's while its customer is: one who left (account deleted: the row goes with it) or
moved to another organisation is no longer found here.
"""
from __future__ import annotations

import dataclasses
import uuid
from typing import Iterable

from models.accounts import Customer
from models.channels.tables import NotificationChannel
from models.oncall.tables import Contact
from models.organisations import Membership, Team


def ensure_contacts(organisation_id) -> None:
    """Gives every member of the organisation a contact row; safe to repeat and to race."""
    # members in the order they joined, so ids follow seniority
    rows = (Membership.select(Membership.customer).join(Team)
            .where(Team.organisation == organisation_id)
            .order_by(Membership.joined_at, Membership.id).tuples())
    members = list(dict.fromkeys(customer_id for (customer_id,) in rows))
    have = {customer_id for (customer_id,) in Contact.select(Contact.customer)
            .where(Contact.customer.in_(members)).tuples()} if members else set()
    missing = [{"organisation": organisation_id, "customer": customer_id}
               for customer_id in members if customer_id not in have]
    if missing:
        Contact.insert_many(missing).on_conflict_ignore().execute()
    # a member who came from another organisation keeps their row (and id), moved along
    if have:
        Contact.update(organisation=organisation_id).where(
            Contact.customer.in_(list(have)), Contact.organisation != organisation_id).execute()


def contacts_of(organisation_id, ids: Iterable[int] | None = None) -> list[Contact]:
    """The organisation's contacts (each with its customer), by id; only `ids` if given."""
    query = (Contact.select(Contact, Customer).join(Customer)
             .where(Customer.organisation == organisation_id))
    if ids is not None:
        ids = sorted({int(i) for i in ids})
        if not ids:
            return []
        query = query.where(Contact.id.in_(ids))
    return list(query.order_by(Contact.id))


def known_contacts(ids: Iterable[int], organisation_id) -> set[int]:
    """Those of `ids` that are contacts of the organisation."""
    return {contact.id for contact in contacts_of(organisation_id, ids)}


@dataclasses.dataclass(frozen=True)
class Card:
    """What the OCS API shows of a contact."""
    id: int
    customer_id: uuid.UUID
    name: str
    surname: str
    email: str
    phone: str | None


def cards(organisation_id, ids: Iterable[int] | None = None) -> list[Card]:
    """The organisation's contacts (only `ids` if given; others left out), by id, each with
    the number of the customer's first verified, enabled personal SMS channel."""
    found = contacts_of(organisation_id, ids)
    phones = phones_of([contact.customer_id for contact in found])
    return [Card(c.id, c.customer_id, c.customer.name, c.customer.surname, c.customer.email,
                 phones.get(c.customer_id)) for c in found]


def list_contacts(caller) -> list[Card]:
    """Every member of the caller's organisation as a contact, by id."""
    ensure_contacts(caller.organisation_id)
    return cards(caller.organisation_id)


def phones_of(customer_ids: Iterable) -> dict:
    """customer id -> the number of their first verified, enabled personal SMS channel."""
    customer_ids = list(customer_ids)
    if not customer_ids:
        return {}
    rows = (NotificationChannel.select(NotificationChannel.customer, NotificationChannel.value)
            .where(NotificationChannel.customer.in_(customer_ids),
                   NotificationChannel.type == "sms", NotificationChannel.enabled == True,  # noqa: E712
                   NotificationChannel.verified_at.is_null(False))
            .order_by(NotificationChannel.priority.desc()).tuples())
    return {customer_id: value for customer_id, value in rows}   # the lowest priority wins
