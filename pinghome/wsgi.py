"""What gunicorn serves: `pinghome.wsgi:api` and `pinghome.wsgi:gateway`, each built from the
environment on first use (importing this module builds nothing)."""
from __future__ import annotations

import functools

import falcon

from models.settings import load_settings
from pinghome.runtime import prepare, settle_heap
from workers.broker import ping


@functools.cache
def _built(name: str) -> falcon.App:
    from api.app import create_app
    from api.gateway import create_gateway

    settings = load_settings()
    broker_check = functools.partial(ping, prepare(settings))
    if name == "gateway":
        _cooperative_postgres()
        app = create_gateway(settings, broker_check=broker_check)
    else:
        app = create_app(settings, broker_check=broker_check)
    settle_heap()
    return app


def _cooperative_postgres() -> None:
    """Under gunicorn's gevent workers (which patch the socket module), a Postgres query
    waits like a socket does, so the worker's other greenlets go on answering meanwhile."""
    from gevent import monkey
    if monkey.is_module_patched("socket"):
        from psycogreen.gevent import patch_psycopg
        patch_psycopg()


def __getattr__(name):
    if name in ("api", "gateway"):
        return _built(name)
    raise AttributeError(name)
