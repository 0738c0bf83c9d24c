"""Accounts and sign-in: endpoints 1-8 of the catalogue, plus token refresh."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import accounts as schemas
from models import accounts, clock


class AccountCollection(Resource):
    PUBLIC = {"POST", "PATCH"}
    STATUS = {"POST": 201}
    POST = schemas.SignUp
    PATCH = schemas.Confirmation

    def on_post(self, req, resp):
        """Sign up: creates an unconfirmed account and mails a confirmation code."""
        customer = accounts.sign_up(**req.context.body.model_dump(), settings=self.settings,
                                    now=clock.now(), ip=req.remote_addr)
        resp.status = falcon.HTTP_201
        resp.media = {**schemas.account_out(customer),
                      "message": f"Account created; a confirmation code was sent to "
                                 f"{customer.email}."}

    def on_patch(self, req, resp):
        """Confirm the account with the mailed code."""
        body = req.context.body
        customer = accounts.confirm_account(email=body.email, code=body.confirmation_code,
                                            settings=self.settings, now=clock.now(),
                                            ip=req.remote_addr)
        resp.media = {**schemas.account_out(customer), "message": "Account confirmed."}


class ConfirmationCode(Resource):
    PUBLIC = {"POST"}
    POST = schemas.EmailOnly

    def on_post(self, req, resp):
        """Resend the sign-up confirmation code (the previous code stops working)."""
        accounts.resend_confirmation(email=req.context.body.email, settings=self.settings,
                                     now=clock.now(), ip=req.remote_addr)
        resp.media = {"message": "If an unconfirmed account uses this address, a new "
                                 "confirmation code is on its way."}


class Auth(Resource):
    PUBLIC = {"POST"}
    POST = schemas.SignIn

    def on_post(self, req, resp):
        """Sign in: answers an access token, a refresh token and the account."""
        now = clock.now()
        customer, tokens = accounts.sign_in(
            email=req.context.body.email, password=req.context.body.password,
            settings=self.settings, now=now, ip=req.remote_addr, user_agent=req.user_agent)
        resp.media = schemas.tokens_out(customer, tokens, now)

    def on_delete(self, req, resp):
        """Sign out: the token stops working at once."""
        accounts.sign_out(req.context.caller, now=clock.now())
        resp.media = {"message": "Signed out."}


class AuthRefresh(Resource):
    PUBLIC = {"POST"}
    POST = schemas.Refresh

    def on_post(self, req, resp):
        """Swap a refresh token for a new token pair (the old pair stops working)."""
        now = clock.now()
        customer, tokens = accounts.refresh_session(
            refresh_token=req.context.body.refresh_token, settings=self.settings, now=now)
        resp.media = schemas.tokens_out(customer, tokens, now)


class Password(Resource):
    PUBLIC = {"POST", "PATCH"}
    POST = schemas.EmailOnly
    PATCH = schemas.RecoveryConfirmation
    PUT = schemas.PasswordChange

    def on_post(self, req, resp):
        """Recover the password: mails a recovery code."""
        accounts.request_password_recovery(email=req.context.body.email,
                                           settings=self.settings, now=clock.now(),
                                           ip=req.remote_addr)
        resp.media = {"message": "If an account uses this address, a recovery code is on "
                                 "its way."}

    def on_patch(self, req, resp):
        """Confirm the recovery with the mailed code and set a new password.

        Every session of the account ends."""
        body = req.context.body
        accounts.recover_password(email=body.email, code=body.code, password=body.password,
                                  settings=self.settings, now=clock.now(), ip=req.remote_addr)
        resp.media = {"message": "Password changed; sign in with the new password."}

    def on_put(self, req, resp):
        """Change the password; the account's other sessions end."""
        body = req.context.body
        accounts.change_password(req.context.caller, previous_password=body.previous_password,
                                 proposed_password=body.proposed_password,
                                 settings=self.settings, now=clock.now())
        resp.media = {"message": "Password changed; your other sessions have ended."}
