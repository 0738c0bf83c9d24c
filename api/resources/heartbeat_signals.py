"""The gateway's hot path: a heartbeat signal (endpoint 82).

No ORM objects and no database on the way once the heartbeat is known: its methods come from
the process's directory (a query only on a miss), the signal goes to the intake (a Redis
stream, group-committed, or the database when embedded), and the answer is written.
Flushers store signals in batches and apply them to their heartbeats."""
from __future__ import annotations

import json
from urllib.parse import parse_qs

import falcon

from api.middleware import kept_body
from models import clock, errors, metrics
from models.intake import new_key
from models.texts import storable
from models.heartbeats.signals import Signal
from models.heartbeats.tables import RESULTS

BODY_KEEP = 10 * 1024         # bytes of a POST body kept as the message; the rest is dropped
_HEADERS = {"Pinghome-Body-Limit": str(BODY_KEEP)}
_ACCEPTED = metrics.SIGNALS.labels("heartbeat")


class HeartbeatSignal:
    PUBLIC = {"GET", "POST", "HEAD"}
    CUTS_BODY = True

    def __init__(self, directory, intake):
        self.directory = directory
        self.intake = intake

    def on_get(self, req, resp, heartbeat_id):
        """Send a signal: `result` (tick by default, run, complete, fail) and `message`."""
        self._take(req, resp, heartbeat_id, {})

    def on_head(self, req, resp, heartbeat_id):
        """The same as GET, for senders that only make HEAD requests."""
        self._take(req, resp, heartbeat_id, {})

    def on_post(self, req, resp, heartbeat_id):
        """The same, with `result` and `message` also taken from the body (JSON, a form, or
        plain text as the message); the first `Pinghome-Body-Limit` bytes are kept."""
        self._take(req, resp, heartbeat_id, _from_body(req))

    def _take(self, req, resp, heartbeat_id, given: dict) -> None:
        resp.set_headers(_HEADERS)
        found = self.directory.find(heartbeat_id)
        if found is None:
            raise errors.NotFound("No such heartbeat.")
        key, methods = found
        if req.method not in methods:
            raise falcon.HTTPMethodNotAllowed(sorted(methods), description=(
                f"This heartbeat accepts {', '.join(sorted(methods))}."))
        result = req.params.get("result") or given.get("result") or "tick"
        if result not in RESULTS:
            raise errors.BadRequest(f"result must be one of {', '.join(RESULTS)}.",
                                    code="bad_result", fields={"result": "unknown value"})
        message = req.params.get("message") or given.get("message")
        if isinstance(message, list):
            message = message[0]
        signal = Signal(key=new_key(), heartbeat_id=key, result=result,
                        received_at=clock.now(), method=req.method,
                        message=None if message is None else storable(message, BODY_KEEP),
                        ip=req.remote_addr, user_agent=storable(req.user_agent or "", 300) or None)
        self.intake.accept(signal)
        _ACCEPTED.inc()
        # the answer written out: the same JSON for a fraction of a serialiser's cost
        resp.content_type = falcon.MEDIA_JSON
        resp.data = b'{"message": "OK", "id": "%s"}' % signal.key.encode()


def _from_body(req) -> dict:
    """`result` and `message` from the start of the body; the rest is read and dropped."""
    kept = kept_body(req, BODY_KEEP)
    if not kept:
        return {}
    text = kept.decode("utf-8", errors="replace")
    kind = (req.content_type or "").split(";")[0].strip().lower()
    if kind == "application/json":
        try:
            found = json.loads(text)
        except ValueError:
            return {"message": text}
        if isinstance(found, dict):
            return {k: found[k] for k in ("result", "message") if isinstance(found.get(k), str)}
        return {"message": text}
    if kind == "application/x-www-form-urlencoded":
        return {k: v[0] for k, v in parse_qs(text).items() if k in ("result", "message")}
    return {"message": text}
