"""The Dramatiq broker: Redis when `REDIS_URL` is set, in-process otherwise.

Import this module before any actor: it installs a placeholder broker so that declaring an
actor never reaches for Dramatiq's default (a RabbitMQ or Redis on localhost). `setup_broker`
then binds every declared actor to the real broker, so actors are declared once and serve both
forms.
"""
from __future__ import annotations

import importlib
import logging
import pkgutil

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware

from models import jobs
from models.db import database

log = logging.getLogger(__name__)

dramatiq.set_broker(StubBroker())
_settings = None


class DatabaseConnection(Middleware):
    """Gives each message a pooled connection and returns it afterwards, so a worker thread
    never holds a connection that the database has closed while it was idle."""

    def before_process_message(self, broker, message):
        database.connect(reuse_if_open=True)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if not database.is_closed():
            database.close()

    after_skip_message = after_process_message


def setup_broker(settings) -> dramatiq.Broker:
    """Creates the broker of `settings`, makes it global, loads and binds every actor."""
    global _settings
    _settings = settings
    if settings.redis_url:
        # A dead worker's unacknowledged messages go back to their queue once its heartbeat
        # is 15 s old (Dramatiq's default is 60 s, longer than a typical check interval, after
        # which a redelivered check would be dropped as stale). The sweep that moves them runs
        # on a random 2 % of broker calls (the chance is per million; the default 0.1 % can
        # leave them parked for minutes on a quiet queue).
        broker = RedisBroker(url=settings.redis_url, namespace="pinghome",
                             heartbeat_timeout=15_000, maintenance_chance=20_000)
    else:
        broker = StubBroker()
    broker.add_middleware(DatabaseConnection())
    dramatiq.set_broker(broker)
    for actor in _load_actors():
        actor.broker = broker
        broker.declare_actor(actor)
    for region in settings.regions:
        broker.declare_queue(f"probes.{region}")
    jobs.set_sender(lambda actor_name, args: broker.get_actor(actor_name).send(*args))
    return broker


def current_settings():
    """The settings the broker was set up with; actors read theirs here."""
    if _settings is None:
        raise RuntimeError("setup_broker() has not been called")
    return _settings


def ping(broker: dramatiq.Broker) -> None:
    """Raises if the broker cannot be reached (the in-process broker always can)."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()


def _load_actors() -> list:
    from workers import actors
    found = []
    for info in pkgutil.iter_modules(actors.__path__):
        module = importlib.import_module(f"workers.actors.{info.name}")
        found.extend(value for value in vars(module).values()
                     if isinstance(value, dramatiq.Actor))
    return found
