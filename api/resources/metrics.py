"""`/metrics` on the API and the gateway: Prometheus' text format."""
from __future__ import annotations

import falcon

from api import errors as api_errors
from api.middleware import bearer_token
from models import addresses, api_keys, clock, errors, metrics


def allowed(req, settings) -> bool:
    """Whether the caller may read the metrics: its address is in `PINGHOME_METRICS_ALLOW`
    (the connection's peer, never a forwarded header a client could write), or it sends a
    read-only API key (`Authorization: Bearer phk_...`) and `PINGHOME_METRICS_KEYS` lets
    keys read them (the default: they are the installation's counts, of every
    organisation, so a shared installation may turn it off)."""
    return addresses.in_networks(req.remote_addr, settings.metrics_allow) or (
        settings.metrics_keys and _read_only_key(req, settings))


def _read_only_key(req, settings) -> bool:
    token = bearer_token(req)
    if token is None or not api_keys.is_api_key(token):
        return False
    try:
        return api_keys.authenticate_key(token, settings=settings, now=clock.now()).read_only
    except errors.Unauthenticated:
        return False


class Metrics:
    # not the bearer token of a person: `allowed` decides
    PUBLIC = {"GET"}

    def __init__(self, settings, streams: dict | None):
        """`streams`: {name: stream} of heartbeat signals and webhook events (each None
        embedded); None for only what this process counted (no state read)."""
        self.settings = settings
        self.state = metrics.StateCollector(streams) if streams is not None else None

    def on_get(self, req, resp):
        """Prometheus metrics: what this process counted (every gunicorn worker's, with
        `PROMETHEUS_MULTIPROC_DIR`) and the installation's state, read now. Only from the
        addresses of `PINGHOME_METRICS_ALLOW` or with a read-only API key (403 otherwise)."""
        if not allowed(req, self.settings):
            raise errors.Forbidden("Metrics are served only to the addresses of "
                                   "PINGHOME_METRICS_ALLOW and to read-only API keys.",
                                   code="metrics_forbidden")
        resp.data, resp.content_type = metrics.exposition(self.settings, self.state,
                                                          accept=req.get_header("Accept"))


def process_app(settings) -> falcon.App:
    """What a scheduler or worker serves on `PINGHOME_METRICS_PORT`: `/metrics` of what the
    process counted, to the same addresses (the state is the API's and the gateway's)."""
    app = falcon.App()
    api_errors.register(app)
    app.add_route("/metrics", Metrics(settings, None))
    return app
