"""The long-running roles: scheduler, worker, and all of them in one process (`up`)."""
from __future__ import annotations

import functools
import logging
import os
import socket
import threading

import peewee
import waitress

from models import db, health
from pinghome.runtime import prepare, settle_heap
from scheduler.lock import leader_lock
from scheduler.loop import Scheduler
from scheduler.tasks import periodic_tasks
from workers.broker import ping
from workers.flusher import start_flushers
from workers.runner import queues_for, start_worker

log = logging.getLogger(__name__)

CLOCK_CHECK_SECONDS = 3600
TICK_SECONDS = 0.1     # checks fall due each second; ticking often starts them sooner


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def watch_clock(settings, role: str, stop: threading.Event) -> None:
    """Checks the clock now (refusing to start when it is too far off) and every hour after."""
    instance = instance_name()
    health.check_clock(settings, role=role, instance=instance, at_start=True)

    def loop():
        while not stop.wait(CLOCK_CHECK_SECONDS):
            health.check_clock(settings, role=role, instance=instance, at_start=False)

    threading.Thread(target=loop, name=f"clock-{role}", daemon=True).start()


def wait_for_schema(stop: threading.Event, retry_seconds: float = 2.0) -> bool:
    """Waits until the database answers and has every migration applied (so a worker started
    before the database, or before `pinghome migrate`, starts once they are ready). False if
    stopped while waiting."""
    said = None
    while not stop.is_set():
        try:
            with db.database.connection_context():
                pending = db.pending_migrations()
        except peewee.DatabaseError as exc:
            problem = f"database unreachable ({exc.__class__.__name__}: {exc}".strip() + ")"
        else:
            if not pending:
                return True
            problem = f"database schema is behind ({', '.join(pending)}): run `pinghome migrate`"
        if problem != said:
            log.warning("%s; waiting", problem)
            said = problem
        stop.wait(retry_seconds)
    return False


def serve_metrics(settings, stop: threading.Event) -> None:
    """A scheduler's or worker's own metrics on `PINGHOME_METRICS_PORT` (unset: none), until
    `stop`. `pinghome up` has no need: its API's `/metrics` holds everything it counts."""
    from api.resources.metrics import process_app

    if settings.metrics_port is None:
        return
    server = waitress.create_server(process_app(settings), host=settings.bind_host,
                                    port=settings.metrics_port, threads=2, ident="pinghome")
    threading.Thread(target=server.run, name="metrics", daemon=True).start()
    threading.Thread(target=lambda: (stop.wait(), server.close()), name="metrics-stop",
                     daemon=True).start()
    log.info("metrics on http://%s:%d/metrics", settings.bind_host, settings.metrics_port)


def run_scheduler(settings, stop: threading.Event) -> None:
    broker = prepare(settings)
    serve_metrics(settings, stop)
    if not wait_for_schema(stop):
        return
    watch_clock(settings, "scheduler", stop)
    log.info("scheduler %s starting", instance_name())
    settle_heap()
    Scheduler(leader_lock(settings), periodic_tasks(broker, settings),
              tick_seconds=TICK_SECONDS).run(stop)


def run_worker(settings, region: str | None, stop: threading.Event) -> None:
    queues = queues_for(settings, region)
    broker = prepare(settings)
    serve_metrics(settings, stop)
    if not wait_for_schema(stop):
        return
    watch_clock(settings, f"worker.{region}" if region else "worker", stop)
    worker = start_worker(broker, settings, queues)
    if region is None and settings.redis_url:
        start_flushers(settings.redis_url, instance_name(), stop,
                       cadence=settings.heartbeat_flush_seconds)
    settle_heap()
    log.info("worker %s consuming %s", instance_name(), ", ".join(sorted(queues)))
    stop.wait()
    worker.stop()


def run_embedded(settings, stop: threading.Event) -> None:
    """api, gateway, scheduler and a worker of every queue in this one process."""
    from api.app import create_app
    from api.gateway import create_gateway

    broker = prepare(settings)
    db.migrate(settings.data_dir)
    watch_clock(settings, "embedded", stop)
    worker = start_worker(broker, settings, None)
    if settings.redis_url:
        start_flushers(settings.redis_url, instance_name(), stop,
                       cadence=settings.heartbeat_flush_seconds)
    broker_check = functools.partial(ping, broker)
    servers = [waitress.create_server(create_app(settings, broker_check=broker_check),
                                      host=settings.bind_host, port=settings.port, threads=8,
                                      ident="pinghome"),
               waitress.create_server(create_gateway(settings, broker_check=broker_check),
                                      host=settings.bind_host, port=settings.gateway_port,
                                      threads=8, ident="pinghome")]
    for server in servers:
        threading.Thread(target=server.run, name="http", daemon=True).start()
    scheduler = threading.Thread(
        target=Scheduler(leader_lock(settings), periodic_tasks(broker, settings),
                         tick_seconds=TICK_SECONDS).run,
        args=(stop,), name="scheduler", daemon=True)
    scheduler.start()
    settle_heap()
    log.info("pinghome is up: API on http://%s:%d, gateway on http://%s:%d (%s, %s)",
             settings.bind_host, settings.port, settings.bind_host, settings.gateway_port,
             settings.database_url, settings.redis_url or "in-process broker")
    stop.wait()
    for server in servers:
        server.close()
    scheduler.join(timeout=5)
    worker.stop()
