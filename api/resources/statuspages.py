"""Status pages on the API: endpoints 102-106 and 108-111."""
from __future__ import annotations

import falcon

from api.resources.base import Resource
from api.schemas import statuspages as schemas
from api.schemas.base import Page, page_of
from models import clock
from models.statuspages import operations as pages
from models.statuspages import statistics


class PageCollection(Resource):
    POST = schemas.PageCreate
    STATUS = {"POST": 201}

    def on_post(self, req, resp):
        """Create a status page (managers and owners) with its components and groups; a
        component follows the monitor (`resource`), heartbeat or server its `resource_id`
        names, or shows the `status` it is given (`manual`)."""
        now = clock.now()
        page = pages.create_page(req.context.caller, req.context.body.given(), now=now)
        resp.status = falcon.HTTP_201
        resp.media = _unified(page, now=now)


class PageList(Resource):
    GET_QUERY = Page

    def on_get(self, req, resp):
        """The organisation's status pages, oldest first."""
        found = pages.list_pages(req.context.caller)
        resp.media = page_of(found, req.context.query, schemas.page_out)


class PageItem(Resource):
    PUT = schemas.PageUpdate

    def on_get(self, req, resp, page_id):
        """A status page (its password is never answered: `has_password` says whether it has
        one)."""
        resp.media = schemas.page_out(pages.page_for(req.context.caller, page_id))

    def on_put(self, req, resp, page_id):
        """Change a status page: the fields given change, the others stay; `components` and
        `groups`, when given, replace the page's; `update_password: true` replaces the
        password with `password`."""
        now = clock.now()
        page = pages.update_page(req.context.caller, page_id, req.context.body.given(), now=now)
        resp.media = {"message": "Status page updated.", **_unified(page, now=now)}

    def on_delete(self, req, resp, page_id):
        """Delete a status page with its components and groups."""
        pages.delete_page(req.context.caller, page_id)
        resp.media = {"message": "Status page deleted."}


class PageEnabled(Resource):
    PUT = schemas.PageEnabled

    def on_put(self, req, resp, page_id):
        """Enable or disable a status page (a disabled page is not served to the public)."""
        page = pages.set_enabled(req.context.caller, page_id,
                                 enabled=req.context.body.enabled, now=clock.now())
        resp.media = {"message": "Status page enabled." if page.enabled
                      else "Status page disabled.", "enabled": page.enabled}


class PageComponents(Resource):
    def on_get(self, req, resp, page_id):
        """The page's components in order, each with the status it shows now."""
        page = pages.page_for(req.context.caller, page_id)
        _, components, shown = pages.contents(page, now=clock.now())
        resp.media = {"data": [schemas.component_out(c, shown[str(c.id)]) for c in components]}


class PageUnified(Resource):
    def on_get(self, req, resp, page_id):
        """The page, its theme, its groups and its components with their status, at once."""
        page = pages.page_for(req.context.caller, page_id)
        resp.media = _unified(page, now=clock.now())


class ComponentStatistics(Resource):
    def on_get(self, req, resp, component_id):
        """A component's status and since when, its uptime per day over the last 90 days
        (from its subject's statistics), and the open incidents that name it."""
        component = pages.component_for(req.context.caller, component_id)
        resp.media = statistics.component_statistics(component, now=clock.now())


def _unified(page, *, now) -> dict:
    return schemas.unified_out(page, *pages.contents(page, now=now))
