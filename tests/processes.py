"""Running the real `pinghome` and gunicorn processes in tests, and talking to them over HTTP."""
from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def own_stack(tmp_path: Path, tables: list, *, env: dict, appendonly: bool = False):
    """Postgres and Redis of the test's own, migrated, with a database handle bound to
    `tables`: yields {"env", "dir", "processes", "postgres", "redis"}; the processes added
    there are stopped after, then the servers."""
    from models import db
    from pinghome.localservers import Postgres, Redis
    postgres, redis = Postgres().start(), Redis(appendonly=appendonly).start()
    env = {"DATABASE_URL": postgres.url, "REDIS_URL": redis.url, "PINGHOME_NTP_SERVER": "off",
           "PINGHOME_DATA_DIR": str(tmp_path), "PINGHOME_WORKER_THREADS": "2", **env}
    processes: list[Process] = []
    handle = db.open_database(postgres.url)
    try:
        assert Process.pinghome("migrate", env=env,
                                log_path=tmp_path / "migrate.log").wait_exit() == 0
        with handle.bind_ctx(tables):
            yield {"env": env, "dir": tmp_path, "processes": processes, "postgres": postgres,
                   "redis": redis}
    finally:
        for process in processes:
            process.stop()
        handle.close()
        redis.destroy()
        postgres.destroy()


def add_service(name: str = "Jobs"):
    """An organisation (on a plan that limits nothing a test needs), a team and a service."""
    from models import clock
    from models.organisations import Organisation, Team
    from models.services import Service
    now = clock.now()
    organisation = Organisation.create(name=name, plan="business", created_at=now)
    team = Team.create(organisation=organisation, name=name, created_at=now)
    return Service.create(team=team, name=name, created_at=now)


def add_heartbeat(service=None):
    from models import clock
    from models.heartbeats.tables import Heartbeat
    now = clock.now()
    return Heartbeat.create(service=service or add_service(), name="Backup", methods=["GET"],
                            interval_seconds=60, grace_seconds=30, created_at=now,
                            updated_at=now)


def start(stack, *args: str) -> "Process":
    """A `pinghome` process of the stack, logging to a file named after it."""
    name = "-".join(args) + f"-{len(stack['processes'])}"
    process = Process.pinghome(*args, env=stack["env"], log_path=stack["dir"] / f"{name}.log")
    stack["processes"].append(process)
    return process


def start_gateway(stack, port: int) -> "Process":
    """As the Procfile runs it: gevent workers (Postgres made cooperative by psycogreen)."""
    gateway = Process.gunicorn("pinghome.wsgi:gateway", port, env=stack["env"],
                               log_path=stack["dir"] / f"gateway-{len(stack['processes'])}.log",
                               workers=("--worker-class", "gevent", "--worker-connections", "1000"))
    stack["processes"].append(gateway)
    wait_http(f"http://127.0.0.1:{port}/v1/health-check")
    return gateway


class Process:
    """A child process whose combined output goes to a file the test can search."""

    def __init__(self, args: list[str], env: dict, log_path: Path, cwd: Path = ROOT):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        full_env = {"PATH": os.environ["PATH"], "PYTHONUNBUFFERED": "1", **env}
        self.popen = subprocess.Popen(args, env=full_env, cwd=cwd, stdout=self._log,
                                      stderr=subprocess.STDOUT)

    @classmethod
    def pinghome(cls, *args: str, env: dict, log_path: Path) -> "Process":
        return cls([sys.executable, "-m", "pinghome", *args], env, log_path)

    @classmethod
    def gunicorn(cls, app: str, port: int, *, env: dict, log_path: Path,
                 workers: tuple = ("--threads", "4")) -> "Process":
        return cls([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                    "--workers", "2", *workers, app], env, log_path)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, pattern: str, timeout: float = 30, after: int = 0) -> re.Match:
        """Polls the output (from character `after`) until `pattern` appears."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output()[after:])
            if match:
                return match
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not seen (exit {self.popen.poll()}):\n{self.output()}")

    def wait_exit(self, timeout: float = 30) -> int:
        return self.popen.wait(timeout)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)
        self._log.close()

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)


def call(method: str, url: str, body: dict | None = None, token: str | None = None,
         timeout: float = 10) -> tuple[int, dict]:
    """One HTTP request as curl would send it; answers (status, decoded JSON body)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout} s")
