"""The baseline of bench/gateway.py: a bare Falcon app that answers 200 with a small JSON body
on the heartbeat path, served by the same gunicorn configuration as the gateway."""
import falcon


class Answer:
    def on_get(self, req, resp, heartbeat_id):
        resp.media = {"message": "OK"}


app = falcon.App()
app.add_route("/v1/heartbeat/{heartbeat_id}", Answer())
