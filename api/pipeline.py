"""What every app of ours is built on: the shared request pipeline (path prefix, body size,
database connection, authentication, validation), the error shapes and `/openapi.json`."""
from __future__ import annotations

import falcon

from api import errors, middleware, openapi

VERSION = "0.1.0"


def build_app(settings, table, *, title: str, middleware_first=()) -> falcon.App:
    """A Falcon app with the shared pipeline (after `middleware_first`), error shapes and
    `/openapi.json` over `table`."""
    app = falcon.App(middleware=[
        *middleware_first,
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


class OpenApiDocument:
    PUBLIC = {"GET"}

    def __init__(self, document):
        self.document = document

    def on_get(self, req, resp):
        """The OpenAPI document of this app."""
        resp.media = self.document
