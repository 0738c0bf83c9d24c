"""The leader lock: one scheduler is active, the others stand by and take over when it dies.

With Redis it is a key with a short expiry that the leader renews every tick (redis-py's
`Lock`); a dead leader stops renewing and a standby acquires it within `ttl_seconds`. Without
Redis (the embedded form, one machine) it is an exclusive `flock` on a file under the data
directory, which the kernel releases when the process dies.
"""
from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

import redis
import redis.exceptions

log = logging.getLogger(__name__)


class RedisLeaderLock:
    def __init__(self, client: redis.Redis, *, name: str = "pinghome:scheduler:leader",
                 ttl_seconds: float = 5.0):
        self._lock = client.lock(name, timeout=ttl_seconds, thread_local=False)
        self._held = False

    def hold(self) -> bool:
        """Acquires or renews the lock; False while another instance leads (or Redis is down)."""
        try:
            if self._held:
                self._lock.reacquire()
            else:
                self._held = self._lock.acquire(blocking=False)
        except redis.exceptions.LockNotOwnedError:
            log.warning("scheduler: lost the leader lock")
            self._held = False
        except redis.exceptions.RedisError as exc:
            # not leading while Redis is away; the lock may still be ours when it is back
            # (its expiry survives a restart), and is then renewed at once, not waited out
            log.warning("scheduler: Redis unreachable for the leader lock: %s", exc)
            return False
        return self._held

    def release(self) -> None:
        if self._held:
            try:
                self._lock.release()
            except redis.exceptions.RedisError:
                pass
            self._held = False


class FileLeaderLock:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._handle = None

    def hold(self) -> bool:
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def leader_lock(settings):
    if settings.redis_url:
        return RedisLeaderLock(redis.Redis.from_url(settings.redis_url, socket_timeout=2,
                                                    socket_connect_timeout=2))
    return FileLeaderLock(Path(settings.data_dir) / "scheduler.lock")
