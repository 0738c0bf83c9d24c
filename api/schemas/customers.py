"""Customer profile (endpoints 9-14)."""
from __future__ import annotations

import pydantic

from api.schemas.accounts import account_out
from api.schemas.base import Body, Code, Email, Name, Text
from models import plans


class ProfileUpdate(Body):
    name: Name | None = None
    surname: Name | None = None

    @pydantic.model_validator(mode="after")
    def _something(self):
        if self.name is None and self.surname is None:
            raise ValueError("give name, surname or both")
        return self


class AccountDeletion(Body):
    reason: Text


class UsernameChange(Body):
    email: Email


class UsernameConfirmation(Body):
    code: Code


class FeedbackBody(Body):
    feedback: Text


def profile_out(customer, over_limits: list[dict]) -> dict:
    """The profile; `over_limits`: what the organisation is over of its plan's limits."""
    organisation = customer.organisation
    return {
        **account_out(customer),
        "organisation": {"id": str(organisation.id), "name": organisation.name,
                         "plan": organisation.plan, "plan_version": organisation.plan_version},
        "limits": plans.limits_by_module(organisation.plan, organisation.plan_version),
        "over_limits": over_limits,
    }
