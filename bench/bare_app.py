"""The baseline of bench/gateway.py and bench/alerting.py: a bare Falcon app that answers on
the heartbeat and webhook paths with a small JSON body, served by the same gunicorn
configuration as the gateway."""
import falcon


class Answer:
    def on_get(self, req, resp, heartbeat_id):
        resp.media = {"message": "OK"}


class Accepted:
    def on_post(self, req, resp, webhook_id):
        req.bounded_stream.read()
        resp.status = falcon.HTTP_202
        resp.media = {"message": "Accepted", "id": webhook_id}


app = falcon.App()
app.add_route("/v1/heartbeat/{heartbeat_id}", Answer())
app.add_route("/v1/incident/webhook/{webhook_id}", Accepted())
