"""Benchmark: heartbeat signals through the gateway, beside a bare Falcon app.

Starts Postgres and Redis (append-only, its file synced at each write as config/redis.conf has
it; `--appendfsync everysec` syncs it once a second) on loopback, migrates, adds heartbeats, then
runs under the same gunicorn configuration (gevent workers, as the Procfile) first the bare app
and then the gateway, with a flusher (`pinghome worker`) storing signals, and loads each with
wrk on loopback (installed from Debian's packages when missing). At the end it waits for the
flusher to drain the stream and counts the stored events against the signals wrk saw answered
200. Run: .venv/bin/python bench/gateway.py [--seconds S] ...
"""
from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.rows import migrated_with_service  # noqa: E402
from pinghome.localservers import Postgres, Redis, free_port  # noqa: E402

SECRET = "bench-secret-key-0123456789-0123456789"
# the ids wrk sends signals to, round-robin (a Lua script picks one per request)
WRK_SCRIPT = textwrap.dedent("""\
    local ids = {%s}
    local n = 0
    request = function()
      n = n + 1
      return wrk.format("GET", "/v1/heartbeat/" .. ids[(n %% #ids) + 1] .. "?message=bench")
    end
""")


def main() -> None:
    options = parse_options()
    wrk = ensure_wrk()
    postgres = Postgres().start()
    redis = Redis(appendonly=True, appendfsync=options.appendfsync).start()
    processes: list[subprocess.Popen] = []
    try:
        env = environment(postgres, redis)
        ids = prepare_database(env, options.heartbeats)
        script = Path(tempfile.mkdtemp(prefix="pinghome-bench-")) / "signals.lua"
        script.write_text(WRK_SCRIPT % ", ".join(f'"{i}"' for i in ids))
        bare = run_app("bench.bare_app:app", env, options, wrk, script, processes)
        processes.append(start(["-m", "pinghome", "worker"], env))
        gateway = run_app("pinghome.wsgi:gateway", env, options, wrk, script, processes)
        stored = stored_events(env, redis.url)
        report(bare, gateway, stored)
    finally:
        stop_all(processes)
        redis.destroy()
        postgres.destroy()


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=30, help="load time per app")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-connections", type=int, default=1000,
                        help="gevent connections per worker (the Procfile's)")
    parser.add_argument("--heartbeats", type=int, default=1000)
    parser.add_argument("--appendfsync", choices=("always", "everysec"), default="always",
                        help="Redis's append-only file sync (config/redis.conf's: always)")
    return parser.parse_args()


def ensure_wrk() -> str:
    return ensure_program("wrk", "wrk")


def ensure_program(name: str, package: str) -> str:
    """The program `name` (also looked for in /usr/sbin), installed from Debian's `package`
    when it is missing."""
    search = f"{os.environ.get('PATH', '')}:/usr/sbin"
    found = shutil.which(name, path=search)
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print(f"... installing {package}", flush=True)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-q", package], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                   stdout=subprocess.DEVNULL)
    return shutil.which(name, path=search)


def environment(postgres, redis) -> dict:
    return {"PATH": os.environ["PATH"], "DATABASE_URL": postgres.url, "REDIS_URL": redis.url,
            "PINGHOME_SECRET_KEY": SECRET, "PINGHOME_NTP_SERVER": "off",
            "PINGHOME_LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
            "PINGHOME_DATA_DIR": tempfile.mkdtemp(prefix="pinghome-bench-")}


def prepare_database(env, count: int) -> list[str]:
    connection, service, now = migrated_with_service(env)
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with connection, connection.cursor() as cursor:
        # up already, as running jobs' heartbeats are: the run measures signals, not the
        # first signal of each heartbeat (a state change handed to the incident rules)
        deadline = (now + dt.timedelta(seconds=3900)).isoformat()
        rows = "".join(f"{i}\t{service}\tjob {n}\t[\"GET\",\"POST\",\"HEAD\"]\t3600\t300\tUTC\t"
                       f"up\t{now.isoformat()}\t{deadline}\t{deadline}\tmissed\t"
                       f"{now.isoformat()}\t{now.isoformat()}\n" for n, i in enumerate(ids))
        cursor.copy_from(io.StringIO(rows), "heartbeat", columns=(
            "id", "service_id", "name", "methods", "interval_seconds", "grace_seconds",
            "timezone", "status", "last_signal_at", "deadline_at", "sweep_at", "deadline_cause",
            "created_at", "updated_at"))
    connection.close()
    return ids


def start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_app(app: str, env, options, wrk: str, script: Path, processes: list) -> dict:
    """Serves `app` with the gunicorn configuration of the Procfile (gevent workers), loads
    it, stops it."""
    server, port = serve(app, env, options, processes, [
        "--worker-class", "gevent", "--worker-connections", str(options.worker_connections)])
    wait_http(f"http://127.0.0.1:{port}/v1/heartbeat/{uuid.uuid4()}")
    # warm up: every worker's cache and connections
    warm = load(wrk, script, port, seconds=3, options=options)
    figures = load(wrk, script, port, seconds=options.seconds, options=options)
    stop(server, processes)
    print(f"{app}: {figures['rate']:,.0f} requests/s, p99 {figures['p99_ms']:.2f} ms, "
          f"{figures['requests']:,} answered, {figures['errors']:,} not 200", flush=True)
    figures["warmup_ok"] = warm["requests"] - warm["errors"]
    return figures


def serve(app: str, env, options, processes: list, worker: list[str]):
    """Starts gunicorn serving `app` on a free loopback port with `options.workers` workers of
    the kind `worker` (gunicorn's options) says; answers the process and the port."""
    port = free_port()
    server = start(["-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers",
                    str(options.workers), *worker, "--log-level", "warning", app], env)
    processes.append(server)
    return server, port


def stop_all(processes: list) -> None:
    """Stops every process a bench started (killing those that do not stop in 20 s)."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def stop(server: subprocess.Popen, processes: list) -> None:
    server.terminate()
    server.wait(20)
    processes.remove(server)


def load(wrk: str, script: Path, port: int, *, seconds: int, options) -> dict:
    out = subprocess.run([wrk, "-t", str(options.wrk_threads), "-c", str(options.connections),
                          "-d", f"{seconds}s", "--latency", "-s", str(script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                              r"timeout (\d+)", out)
    return {"requests": requests, "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out)
                                                .group(1)),
            "p99_ms": _ms(re.search(r"99%\s+([\d.]+\w+)", out).group(1)),
            "errors": int(errors.group(1)) if errors else 0,
            "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0}


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def stored_events(env, redis_url: str, timeout: float = 120) -> int:
    """Waits for the flusher to empty the stream, then counts the events in Postgres."""
    import psycopg2
    import redis
    client = redis.Redis.from_url(redis_url)
    deadline = time.monotonic() + timeout
    while client.xlen("pinghome:heartbeat-signals") and time.monotonic() < deadline:
        time.sleep(0.2)
    connection = psycopg2.connect(env["DATABASE_URL"])
    with connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM heartbeat_event")
        (count,) = cursor.fetchone()
    connection.close()
    return count


def report(bare: dict, gateway: dict, stored: int) -> None:
    # wrk counts only answers that arrived inside its run; the warm-up's count too
    answered = gateway["requests"] - gateway["errors"] + gateway["warmup_ok"]
    lost = max(0, answered - stored)
    print(f"events stored {stored:,} for {answered:,} signals answered 200 (warm-up included)")
    print(f"bench gateway: {gateway['rate']:,.0f} pings/s, {gateway['rate'] / bare['rate']:.2f} x "
          f"bare app, p99 {gateway['p99_ms']:.2f} ms, lost {lost}")


if __name__ == "__main__":
    main()
