"""`/metrics` on the API and the gateway: Prometheus' text format."""
from __future__ import annotations

import ipaddress

import falcon

from api import errors as api_errors
from models import errors, metrics


def allowed(req, settings) -> bool:
    """Whether the caller may read the metrics: its address is in `PINGHOME_METRICS_ALLOW`.
    The address is the connection's peer, never a forwarded header a client could write.
    A read-only API key (`Authorization: Bearer phk_...`, being built) is to be accepted
    here as well."""
    try:
        address = ipaddress.ip_address((req.remote_addr or "").split("%")[0])
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in settings.metrics_allow)


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
        addresses of `PINGHOME_METRICS_ALLOW` (403 otherwise)."""
        if not allowed(req, self.settings):
            raise errors.Forbidden("Metrics are served only to the addresses of "
                                   "PINGHOME_METRICS_ALLOW.", code="metrics_forbidden")
        resp.data, resp.content_type = metrics.exposition(self.settings, self.state,
                                                          accept=req.get_header("Accept"))


def process_app(settings) -> falcon.App:
    """What a scheduler or worker serves on `PINGHOME_METRICS_PORT`: `/metrics` of what the
    process counted, to the same addresses (the state is the API's and the gateway's)."""
    app = falcon.App()
    api_errors.register(app)
    app.add_route("/metrics", Metrics(settings, None))
    return app
