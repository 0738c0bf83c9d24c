"""Throwaway Postgres and Redis servers on loopback, for the test suite and the benchmarks.

Both run from the Debian packages (`postgresql`, `redis-server`); `.ci/run` installs them.
Postgres refuses to run as root, so as root its data directory is handed to the `postgres`
user and its commands run through `runuser`.
"""
from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class ServerUnavailable(RuntimeError):
    """A server could not be found or started; the message says what to install."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin(name: str) -> str:
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    found = candidates[-1] if candidates else shutil.which(name)
    if not found:
        raise ServerUnavailable(f"{name} not found: install Debian's 'postgresql' package")
    return found


class Postgres:
    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pinghome-pg-"))
        self.as_root = os.geteuid() == 0
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/pinghome"

    def _run(self, *args, check=True):
        command = list(args)
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def start(self) -> "Postgres":
        if self.as_root:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        data = self.dir / "data"
        try:
            self._run(_postgres_bin("initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                      "-E", "UTF8", "--no-sync")
            self._pg_ctl_start()
            self._run(_postgres_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                      "-U", "postgres", "pinghome")
        except subprocess.CalledProcessError as exc:
            raise ServerUnavailable(f"Postgres did not start: {exc.stderr or exc.stdout}") from exc
        return self

    def _pg_ctl_start(self):
        options = (f"-p {self.port} -h 127.0.0.1 -k {self.dir} -c fsync=off "
                   f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.dir / "data"), "-o", options,
                  "-l", str(self.dir / "log"), "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(_postgres_bin("pg_ctl"), "-D", str(self.dir / "data"), "-m", mode, "-w",
                  "stop", check=False)

    def restart(self) -> None:
        """Starts a stopped server again, on the same port with the same data."""
        self._pg_ctl_start()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Redis:
    def __init__(self, *, appendonly: bool = False, appendfsync: str = "always"):
        """`appendonly` as `config/redis.conf` has it, and its `appendfsync` by default
        (`always`: the file synced before Redis answers a write)."""
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pinghome-redis-"))
        self.appendonly, self.appendfsync = appendonly, appendfsync
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Redis":
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(binary):
            raise ServerUnavailable("redis-server not found: install Debian's 'redis-server'")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "yes" if self.appendonly else "no",
             "--appendfsync", self.appendfsync],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            time.sleep(0.05)
        raise ServerUnavailable("redis-server did not answer within 20 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
