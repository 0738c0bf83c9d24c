"""The signed link of an incident notice: a page whose button acknowledges the incident.

GET answers the page and changes nothing (mail scanners and link previews follow links);
the button POSTs, which acknowledges. Both need only the link's signature, no sign-in."""
from __future__ import annotations

import html

import falcon

from api.resources.base import Resource
from api.schemas.incidents import AcknowledgementQuery
from models import clock
from models.incidents import lifecycle, messages

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">
<h1>{title}</h1><p>{text}</p>{form}</body></html>"""


class Acknowledgement(Resource):
    PUBLIC = {"GET", "POST"}
    GET_QUERY = AcknowledgementQuery
    POST_QUERY = AcknowledgementQuery

    def on_get(self, req, resp, incident_id):
        """The page of a notice's acknowledge link, with its button."""
        query = req.context.query
        incident = lifecycle.incident_by_link(incident_id, by=query.by, token=query.token,
                                              settings=self.settings)
        form = ""
        if incident.status == "triggered":
            form = (f'<form method="post" action="{html.escape(req.relative_uri)}">'
                    '<button type="submit" style="font-size: 1.2em">Acknowledge</button>'
                    "</form>")
        self._page(resp, f"Incident: {incident.name}",
                   f"Urgency {incident.urgency}; it is {incident.status}.", form)

    def on_post(self, req, resp, incident_id):
        """Acknowledge the incident (the page's button)."""
        query = req.context.query
        incident = lifecycle.acknowledge_by_link(incident_id, by=query.by, token=query.token,
                                                 settings=self.settings, now=clock.now())
        self._page(resp, f"Incident: {incident.name}", f"It is {incident.status}; thank you.",
                   "")

    @staticmethod
    def _page(resp, title: str, text: str, form: str) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = _PAGE.format(title=html.escape(title), text=html.escape(text), form=form)
