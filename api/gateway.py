"""The gateway app: what heartbeat senders, alert sources and server agents push to us.

A separate, lean app on its own port (`GATEWAY_PORT`), served as `pinghome.wsgi:gateway`:
`GET /v1/heartbeat/{id}` means "a heartbeat arrived" here and "read a heartbeat monitor" on
the API.
"""
from __future__ import annotations

import falcon

from api.pipeline import build_app
from api.resources import health, servers
from api.resources.heartbeat_signals import HeartbeatSignal
from models.heartbeats.directory import Directory
from models.heartbeats.intake import intake_for
from models.heartbeats.stream import stream_for


def routes(settings, broker_check) -> list[tuple[str, object]]:
    stream = stream_for(settings)     # signals go into it; the health check reads its backlog
    return [
        ("/v1/heartbeat/{heartbeat_id:uuid}", HeartbeatSignal(Directory(), intake_for(stream))),
        ("/v1/health-check", health.HealthCheck(broker_check, stream)),
        ("/v1/server-resource/{server_id:uuid}/metrics", servers.AgentReport(settings)),
    ]


def create_gateway(settings, *, broker_check) -> falcon.App:
    """The gateway over `settings` (the domain layer configured for them by the caller)."""
    return build_app(settings, routes(settings, broker_check), title="Pinghome gateway")
