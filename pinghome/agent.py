"""`pinghome-agent`: reads this machine's CPU, memory, swap, disk, load and network with psutil
and pushes them to the Pinghome gateway every few seconds.

    pinghome-agent --gateway https://gateway.example.com --server <id> --token=<push key>

It runs on the monitored server, not beside Pinghome, so it imports nothing of Pinghome's own
(no settings, no database) and needs only psutil and the standard library. Readings wait in a
bounded backlog while the gateway cannot be reached (the oldest are dropped first when it
fills) and go out, oldest first and in batches, once it answers again. A batch the gateway
stored but whose answer was lost is sent again; the gateway keys readings by (server, type,
time), so it stores nothing twice.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request

import psutil

log = logging.getLogger("pinghome.agent")
VERSION = "0.1.0"
RETRY_STATUSES = {408, 425, 429}     # and every 5xx: the gateway may accept the batch later
REFUSED_STATUSES = {401, 403, 404}   # the server id or push key is wrong: nothing will help


class AgentRefused(Exception):
    """The gateway refused the agent itself (unknown server, wrong push key)."""


class Sampler:
    """Takes one sample of every metric. Rates (disk and network bytes per second) are the
    counters' growth since the previous sample, so the first sample measures from start-up."""

    def __init__(self):
        psutil.cpu_percent(interval=None)   # the first call only starts psutil's measurement
        self._last = (time.monotonic(), _disk_io(), psutil.net_io_counters())

    def sample(self) -> dict:
        now, disk, net = time.monotonic(), _disk_io(), psutil.net_io_counters()
        before, disk_before, net_before = self._last
        self._last = (now, disk, net)
        seconds = max(now - before, 1e-6)
        memory, swap = psutil.virtual_memory(), psutil.swap_memory()
        load1, load5, load15 = psutil.getloadavg()
        metrics = {
            "cpu-total-usage": {"percent": psutil.cpu_percent(interval=None)},
            "memory-usage": {"percent": memory.percent, "used": float(memory.used),
                             "total": float(memory.total)},
            "swap-usage": {"percent": swap.percent, "used": float(swap.used),
                           "total": float(swap.total)},
            "disk-usage-unified": _disk_usage(),
            "system-load-unified": {"load1": load1, "load5": load5, "load15": load15},
            "network-usage-unified": {
                "sent_bytes_per_s": _rate(net.bytes_sent, net_before.bytes_sent, seconds),
                "recv_bytes_per_s": _rate(net.bytes_recv, net_before.bytes_recv, seconds)},
        }
        if disk is not None and disk_before is not None:   # None: the kernel shows no disks
            metrics["disk-io-unified"] = {
                "read_bytes_per_s": _rate(disk.read_bytes, disk_before.read_bytes, seconds),
                "write_bytes_per_s": _rate(disk.write_bytes, disk_before.write_bytes, seconds)}
        return metrics


def _disk_io():
    try:
        return psutil.disk_io_counters()
    except (OSError, RuntimeError):
        return None


def _rate(count: int, before: int, seconds: float) -> float:
    return max(count - before, 0) / seconds      # a counter that was reset counts as idle


def _disk_usage() -> dict:
    """Every local file system once (a device mounted twice counts once), added up."""
    used = total = 0
    seen = set()
    for partition in psutil.disk_partitions(all=False):
        if partition.device in seen:
            continue
        seen.add(partition.device)
        try:
            usage = psutil.disk_usage(partition.mountpoint)
        except OSError:                           # unmounted meanwhile, or not ours to read
            continue
        used, total = used + usage.used, total + usage.total
    return {"percent": round(100.0 * used / total, 2) if total else 0.0, "used": float(used),
            "total": float(total)}


class Agent:
    """Samples and pushes; `tick()` does one round, `run()` repeats it every interval."""

    def __init__(self, gateway: str, server_id: str, token: str, *,
                 interval_seconds: float = 10, max_backlog: int = 8640, batch_size: int = 100,
                 timeout_seconds: float = 10, sampler: Sampler | None = None):
        self.url = f"{gateway.rstrip('/')}/v1/server-resource/{server_id}/metrics"
        self.token = token
        self.interval_seconds = interval_seconds
        self.batch_size = batch_size
        self.timeout_seconds = timeout_seconds
        self.sampler = sampler or Sampler()
        # a day of 10-second samples by default; the oldest go first when it is full
        self.backlog: collections.deque = collections.deque(maxlen=max_backlog)

    def tick(self) -> int:
        """Takes a sample and sends what is waiting; answers how many samples went out."""
        at = dt.datetime.now(dt.timezone.utc)
        self.backlog.append({"at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                             "metrics": self.sampler.sample()})
        return self.flush()

    def flush(self) -> int:
        """Sends the backlog oldest first, a batch at a time, until it is empty or the gateway
        does not take a batch (it is retried at the next tick). Raises `AgentRefused` when the
        gateway refuses this server or key."""
        sent = 0
        while self.backlog:
            batch = [self.backlog[i] for i in range(min(self.batch_size, len(self.backlog)))]
            outcome = self._send(batch)
            if outcome == "retry":
                return sent
            for _ in batch:
                self.backlog.popleft()
            sent += len(batch) if outcome == "stored" else 0
        return sent

    def _send(self, batch: list[dict]) -> str:
        """'stored', 'retry', or 'dropped' (the gateway will never take this batch as it is)."""
        body = json.dumps({"interval": max(1, round(self.interval_seconds)),
                           "agent": f"pinghome-agent/{VERSION}", "samples": batch}).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {self.token}",
            "User-Agent": f"pinghome-agent/{VERSION}"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:
                response.read()
            return "stored"
        except urllib.error.HTTPError as error:
            detail = error.read()[:500].decode(errors="replace")
            if error.code in REFUSED_STATUSES:
                raise AgentRefused(f"the gateway refused this agent ({error.code}): {detail}") \
                    from None
            if error.code >= 500 or error.code in RETRY_STATUSES:
                log.warning("gateway answered %s; %d sample(s) wait", error.code,
                            len(self.backlog))
                return "retry"
            log.error("gateway refused %d sample(s) (%s): %s", len(batch), error.code, detail)
            return "dropped"
        except OSError as error:        # refused, reset, timed out, name not resolved
            log.warning("gateway unreachable (%s); %d sample(s) wait", error, len(self.backlog))
            return "retry"

    def run(self, stop: threading.Event) -> None:
        """Ticks every interval until `stop` is set (measured from each tick's start, so a
        slow gateway does not stretch the interval)."""
        while not stop.is_set():
            started = time.monotonic()
            self.tick()
            stop.wait(max(0.0, self.interval_seconds - (time.monotonic() - started)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pinghome-agent", description=__doc__.split("\n")[0])
    parser.add_argument("--gateway", required=True, help="the Pinghome gateway's URL")
    parser.add_argument("--server", required=True, help="the server monitor's id")
    parser.add_argument("--token", default=os.environ.get("PINGHOME_AGENT_TOKEN"),
                        help="the server's push key (or PINGHOME_AGENT_TOKEN)")
    parser.add_argument("--interval", type=float, default=10.0,
                        help="seconds between samples (default 10)")
    parser.add_argument("--backlog", type=int, default=8640,
                        help="samples kept while the gateway is unreachable (default 8640)")
    parser.add_argument("--once", action="store_true", help="send one sample and exit")
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or PINGHOME_AGENT_TOKEN) is required")
    if args.interval < 1 or args.backlog < 1:
        parser.error("--interval and --backlog must be at least 1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    agent = Agent(args.gateway, args.server, args.token, interval_seconds=args.interval,
                  max_backlog=args.backlog)
    try:
        if args.once:
            return 0 if agent.tick() else 1
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        log.info("pushing to %s every %g s", agent.url, args.interval)
        agent.run(stop)
    except AgentRefused as exc:
        print(f"pinghome-agent: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
