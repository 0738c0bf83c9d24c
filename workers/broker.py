"""The Dramatiq broker: Redis when `REDIS_URL` is set, in-process otherwise.

Import this module before any actor: it installs a placeholder broker so that declaring an
actor never reaches for Dramatiq's default (a RabbitMQ or Redis on localhost). `setup_broker`
then binds every declared actor to the real broker, so actors are declared once and serve both
forms.
"""
from __future__ import annotations

import collections
import datetime as dt
import importlib
import logging
import pkgutil
import threading

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name
from dramatiq.middleware import CurrentMessage, Middleware

from models import jobs, metrics
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
        # is 15 s old (Dramatiq's default is 60 s); the scheduler moves them every second
        # (`requeue_from_dead_workers`), not only on a random share of broker calls.
        broker = _RedisBroker(url=settings.redis_url, namespace="pinghome",
                              heartbeat_timeout=15_000)
    else:
        broker = StubBroker()
    broker.add_middleware(DatabaseConnection())
    broker.add_middleware(CurrentMessage())
    dramatiq.set_broker(broker)
    for actor in _load_actors():
        actor.broker = broker
        broker.declare_actor(actor)
    for region in settings.regions:
        broker.declare_queue(f"probes.{region}")
    jobs.set_sender(lambda actor_name, args, delay_ms: broker.get_actor(actor_name)
                    .send_with_options(args=args, delay=delay_ms))
    metrics.set_queue_reader(lambda: queue_depths(broker))
    return broker


class _RedisBroker(RedisBroker):
    """Dramatiq's Redis broker, which can also requeue dead workers' messages on demand."""

    def __init__(self, **options):
        super().__init__(**options)
        self._maintaining = threading.local()

    def requeue_from_dead_workers(self) -> None:
        """Moves the unacknowledged messages of every worker whose heartbeat is older than
        `heartbeat_timeout` back to their queues now (Dramatiq's queue maintenance)."""
        self._maintaining.now = True
        try:
            for queue in sorted(self.get_declared_queues() | self.get_declared_delay_queues()):
                self.do_qsize(queue)
        finally:
            self._maintaining.now = False

    def _should_do_maintenance(self, command: str) -> int:
        if getattr(self._maintaining, "now", False):
            return 1
        return super()._should_do_maintenance(command)


def requeue_from_dead_workers(broker: dramatiq.Broker) -> None:
    """A killed worker's messages come back within a second of its heartbeat timing out
    (the in-process broker has no other workers to lose them to)."""
    if isinstance(broker, _RedisBroker):
        broker.requeue_from_dead_workers()


_started = collections.OrderedDict()      # in-process broker: message ids started, newest last


def is_started_again() -> bool:
    """Whether the message the calling actor processes was started before (redelivered from
    a dead worker, or retried): its id is kept an hour in Redis, or in this process."""
    message_id = CurrentMessage.get_current_message().message_id
    broker = dramatiq.get_broker()
    if isinstance(broker, RedisBroker):
        return not broker.client.set(f"pinghome:started:{message_id}", 1, nx=True, ex=3600)
    if message_id in _started:
        return True
    _started[message_id] = True
    if len(_started) > 100_000:
        _started.popitem(last=False)
    return False


def current_settings():
    """The settings the broker was set up with; actors read theirs here."""
    if _settings is None:
        raise RuntimeError("setup_broker() has not been called")
    return _settings


def ping(broker: dramatiq.Broker) -> None:
    """Raises if the broker cannot be reached (the in-process broker always can)."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()


def queue_depths(broker: dramatiq.Broker) -> list[tuple[str, int, int, dt.datetime | None]]:
    """Each declared queue's messages waiting to be taken, those in its delay queue, and
    when the one at its head was first sent (None when it is empty)."""
    # the in-process broker lists its delay queues among its queues
    queues = sorted(broker.get_declared_queues() - broker.get_declared_delay_queues())
    if isinstance(broker, RedisBroker):
        return _redis_depths(broker, queues)
    found = []
    for queue in queues:
        ready, delayed = broker.queues[queue], broker.queues[dq_name(queue)]
        try:
            head = dramatiq.Message.decode(ready.queue[0])
        except IndexError:
            head = None
        found.append((queue, ready.qsize(), delayed.qsize(), head and _sent_at(head)))
    return found


def _redis_depths(broker, queues):
    """Dramatiq keeps a queue as a list of message ids (`<namespace>:<queue>`, taken from
    the left) and the messages in a hash beside it (`...msgs`); one round trip for the
    lengths and heads, one for the heads' messages."""
    names = [f"{broker.namespace}:{queue}" for queue in queues]
    pipe = broker.client.pipeline(transaction=False)
    for name in names:
        pipe.llen(name)
        pipe.hlen(f"{dq_name(name)}.msgs")
        pipe.lindex(name, 0)
    answers = pipe.execute()
    heads = [answers[i * 3 + 2] for i in range(len(names))]
    for name, head in zip(names, heads):
        if head is not None:
            pipe.hget(f"{name}.msgs", head)
    messages = iter(pipe.execute())
    found = []
    for i, queue in enumerate(queues):
        data = next(messages) if heads[i] is not None else None
        head = dramatiq.Message.decode(data) if data else None
        found.append((queue, answers[i * 3], answers[i * 3 + 1], head and _sent_at(head)))
    return found


def _sent_at(message: dramatiq.Message) -> dt.datetime:
    return dt.datetime.fromtimestamp(message.message_timestamp / 1000, dt.timezone.utc)


def _load_actors() -> list:
    from workers import actors
    found = []
    for info in pkgutil.iter_modules(actors.__path__):
        module = importlib.import_module(f"workers.actors.{info.name}")
        found.extend(value for value in vars(module).values()
                     if isinstance(value, dramatiq.Actor))
    return found
