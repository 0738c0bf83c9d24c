"""Status pages for tests."""
from __future__ import annotations

import itertools

from models import clock
from models.statuspages import operations
from tests.factories.organisations import caller_of

_numbers = itertools.count(1)


def make_page(owner, *, components=({"name": "API", "type": "manual"},), **fields):
    """A page of `owner`'s organisation (made by `owner`, a manager or owner) with a unique
    subdomain and, by default, one manual component."""
    number = next(_numbers)
    body = {"name": f"Page {number}", "subdomain": f"page-{number}-{owner.id.hex[:8]}",
            "components": list(components), **fields}
    return operations.create_page(caller_of(owner), body, now=clock.now())


def first_setting(page) -> dict:
    """A trigger-alerts setting naming the page's first component."""
    component = page.components.order_by(page.components.model.position).get()
    return {"status_page_id": str(page.id), "component_id": str(component.id)}
