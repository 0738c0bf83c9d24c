"""The customer profile: endpoints 9-14."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import customers as schemas
from models import accounts, clock, customers, usage


class CustomerItem(Resource):
    def on_get(self, req, resp, customer_id):
        """Get a customer profile: teams, organisation and the limits of its plan."""
        resp.media = _profile(accounts.get_customer(req.context.caller, customer_id))


class CustomerSelf(Resource):
    PATCH = schemas.ProfileUpdate
    DELETE = schemas.AccountDeletion

    def on_patch(self, req, resp):
        """Update your name and surname."""
        body = req.context.body
        customer = customers.update_profile(req.context.caller, name=body.name,
                                            surname=body.surname)
        resp.media = _profile(customer)

    def on_delete(self, req, resp):
        """Delete your account, giving a reason.

        Refused (409) while you are the last owner of a team with other members."""
        customers.delete_account(req.context.caller, reason=req.context.body.reason,
                                 now=clock.now())
        resp.media = {"message": "Your account is deleted."}


class Username(Resource):
    PUT = schemas.UsernameChange
    PATCH = schemas.UsernameConfirmation

    def on_put(self, req, resp):
        """Change your sign-in address: a code goes to the new one."""
        customers.request_email_change(req.context.caller, email=req.context.body.email,
                                       settings=self.settings, now=clock.now())
        resp.media = {"message": "If this address can become your sign-in address, a "
                                 "confirmation code is on its way to it; your sign-in address "
                                 "changes once you enter it."}

    def on_patch(self, req, resp):
        """Confirm the new sign-in address with the mailed code."""
        customer = customers.confirm_email_change(req.context.caller, code=req.context.body.code,
                                                  settings=self.settings, now=clock.now())
        resp.media = _profile(customer)


class Feedback(Resource):
    POST = schemas.FeedbackBody
    STATUS = {"POST": 201}

    def on_post(self, req, resp):
        """Submit feedback."""
        feedback = customers.submit_feedback(req.context.caller, text=req.context.body.feedback,
                                             now=clock.now())
        resp.status = falcon.HTTP_201
        resp.media = {"id": str(feedback.id), "message": "Thank you for your feedback."}


def _profile(customer) -> dict:
    return schemas.profile_out(customer, usage.over_limits(customer.organisation,
                                                           now=clock.now()))
