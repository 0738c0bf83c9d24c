"""The API app: every path under `/v1/...` (and `/default/v1/...`) and the OCS API under `/api/...`.

`gunicorn api.app:app` serves the module-level `app`, built from the environment on first use;
tests call `create_app(settings)`.
"""
from __future__ import annotations

import functools

import falcon

from api import errors, middleware, openapi
from api.resources import accounts, health
from models.settings import load_settings
from pinghome.runtime import prepare
from workers.broker import ping

VERSION = "0.1.0"


def routes(settings, broker) -> list[tuple[str, object]]:
    """The route table: the app and `/openapi.json` are both built from it."""
    return [
        ("/v1/account", accounts.AccountCollection(settings)),
        ("/v1/account/confirmation-code", accounts.ConfirmationCode(settings)),
        ("/v1/account/password", accounts.Password(settings)),
        ("/v1/auth", accounts.Auth(settings)),
        ("/v1/auth/refresh", accounts.AuthRefresh(settings)),
        ("/v1/customer/{customer_id:uuid}", accounts.CustomerItem(settings)),
        ("/v1/health-check", health.HealthCheck(functools.partial(ping, broker))),
    ]


def build_app(settings, table, *, title: str) -> falcon.App:
    """A Falcon app with the shared pipeline, error shapes and `/openapi.json` over `table`."""
    app = falcon.App(middleware=[
        middleware.StripDefaultPrefix(),
        middleware.BodySizeLimit(settings.max_body_bytes),
        middleware.DatabaseConnection(),
        middleware.Authentication(settings),
        middleware.Validation(settings.max_body_bytes),
    ])
    errors.register(app)
    for template, resource in table:
        app.add_route(template, resource)
    document = openapi.build_document(table, title=title, version=VERSION)
    app.add_route("/openapi.json", OpenApiDocument(document))
    return app


def create_app(settings) -> falcon.App:
    broker = prepare(settings)
    return build_app(settings, routes(settings, broker), title="Pinghome API")


class OpenApiDocument:
    PUBLIC = {"GET"}

    def __init__(self, document):
        self.document = document

    def on_get(self, req, resp):
        """The OpenAPI document of this app."""
        resp.media = self.document


@functools.cache
def _app_from_environment() -> falcon.App:
    return create_app(load_settings())


def __getattr__(name):   # `api.app:app` for gunicorn, built only when asked for
    if name == "app":
        return _app_from_environment()
    raise AttributeError(name)
