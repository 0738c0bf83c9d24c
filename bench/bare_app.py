"""The baseline of bench/gateway.py, bench/alerting.py and bench/statuspage.py: a bare Falcon
app that answers on the heartbeat, webhook and status page paths, served by the same gunicorn
configuration as the app it stands beside.

On the status page paths it answers the very bytes the real page answered (saved by
bench/statuspage.py in the folder `PINGHOME_BENCH_PAGES` names), so both send as much."""
import os
from pathlib import Path

import falcon


class Answer:
    def on_get(self, req, resp, heartbeat_id):
        resp.media = {"message": "OK"}


class Accepted:
    def on_post(self, req, resp, webhook_id):
        req.bounded_stream.read()
        resp.status = falcon.HTTP_202
        resp.media = {"message": "Accepted", "id": webhook_id}


class StatusPage:
    def __init__(self, folder: str | None):
        saved = Path(folder) if folder else None
        self.html = (saved / "page.html").read_bytes() if saved else b"<p>OK</p>"
        self.json = (saved / "summary.json").read_bytes() if saved else b'{"status":"ok"}'

    def on_get(self, req, resp, name):
        if req.client_prefers(["text/html", "application/json"]) == "application/json":
            return self.on_get_json(req, resp, name)
        resp.content_type = falcon.MEDIA_HTML
        resp.data = self.html

    def on_get_json(self, req, resp, name):
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self.json


app = falcon.App()
app.add_route("/v1/heartbeat/{heartbeat_id}", Answer())
app.add_route("/v1/incident/webhook/{webhook_id}", Accepted())
page = StatusPage(os.environ.get("PINGHOME_BENCH_PAGES"))
app.add_route("/status/{name}", page)
app.add_route("/status/{name}/summary.json", page, suffix="json")
