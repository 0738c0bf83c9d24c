"""The gateway app: what heartbeat senders, alert sources and server agents push to us.

A separate, lean app on its own port (`GATEWAY_PORT`): `GET /v1/heartbeat/{id}` means "a
heartbeat arrived" here and "read a heartbeat monitor" on the API.
"""
from __future__ import annotations

import functools

import falcon

from api.app import build_app
from api.resources import health, servers
from api.resources.heartbeat_signals import HeartbeatSignal
from models.heartbeats.directory import Directory
from models.heartbeats.intake import intake_for
from models.heartbeats.stream import stream_for
from models.settings import load_settings
from pinghome.runtime import prepare, settle_heap
from workers.broker import ping


def routes(settings, broker) -> list[tuple[str, object]]:
    stream = stream_for(settings)     # signals go into it; the health check reads its backlog
    return [
        ("/v1/heartbeat/{heartbeat_id:uuid}", HeartbeatSignal(Directory(), intake_for(stream))),
        ("/v1/health-check", health.HealthCheck(functools.partial(ping, broker), stream)),
        ("/v1/server-resource/{server_id:uuid}/metrics", servers.AgentReport(settings)),
    ]


def create_gateway(settings) -> falcon.App:
    broker = prepare(settings)
    _cooperative_postgres()
    return build_app(settings, routes(settings, broker), title="Pinghome gateway")


def _cooperative_postgres() -> None:
    """Under gunicorn's gevent workers (which patch the socket module), a Postgres query
    waits like a socket does, so the worker's other greenlets go on answering meanwhile."""
    from gevent import monkey
    if monkey.is_module_patched("socket"):
        from psycogreen.gevent import patch_psycopg
        patch_psycopg()


@functools.cache
def _app_from_environment() -> falcon.App:
    app = create_gateway(load_settings())
    settle_heap()
    return app


def __getattr__(name):   # `api.gateway:app` for gunicorn
    if name == "app":
        return _app_from_environment()
    raise AttributeError(name)
