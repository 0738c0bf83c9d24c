"""Benchmark: the capacity of the whole probe pipeline (scheduled -> probed -> stored -> state
updated), for plain HTTP and for HTTPS with a new TLS connection per check.

Starts Postgres, Redis and an nginx target on loopback (installing Debian's nginx-light when it
is missing; its TLS certificate from a trustme CA the workers trust through
PINGHOME_TLS_CA_FILE). For each scheme it first measures the bare loop: the same probe function,
client and concurrency against the same target, with no scheduler, broker or database (three
times, and again after each step; its rate is the median of them all). Then it
offers the real `pinghome scheduler` and region workers (processes) a load of monitors every
`--interval` seconds, starting at `--start` x the bare loop and stepping it up x `--step` (each
step held `--warmup` + `--duration` seconds, with a fresh broker) until the scheduling lag's p99
passes 1 s or fewer than 95 % of the offered checks are recorded; the highest step that held is
the capacity. Run: .venv/bin/python bench/probes.py [--interval S] [--start R] [--step F] ...
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import io
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.gateway import ensure_program, stop_all  # noqa: E402
from bench.rows import migrated_with_service  # noqa: E402
from pinghome.localservers import Postgres, Redis, free_port  # noqa: E402

SECRET = "bench-secret-key-0123456789-0123456789"


def main() -> None:
    options = parse_options()
    nginx = Nginx().start()
    postgres, redis = Postgres().start(), Redis().start()
    try:
        env = environment(postgres, redis, options, nginx.ca_file)
        found = {}
        for scheme, url in (("http", nginx.url), ("https", nginx.tls_url)):
            if scheme not in options.schemes.split(","):
                continue
            bare = BareLoop(url, options, ca_file=nginx.ca_file)
            for _ in range(3):
                bare.measure()
            print(f"{scheme} bare loop: {bare.rate:,.0f} checks/s (probe_http_many, "
                  f"concurrency {options.batch_size}, new connection per check; the median of "
                  f"{bare.described()})", flush=True)
            monitors = prepare_database(env, options, url,
                                        count=int(bare.rate * options.most * options.interval))
            found[scheme] = (bare, step_up(env, redis, options, monitors, bare, scheme))
        report(found, options)
    finally:
        redis.destroy()
        postgres.destroy()
        nginx.stop()


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interval", type=int, default=10, help="seconds between checks")
    parser.add_argument("--start", type=float, default=0.35,
                        help="the first step's offered load, a multiple of the bare loop")
    parser.add_argument("--step", type=float, default=1.25, help="each step's load increase")
    parser.add_argument("--most", type=float, default=1.3,
                        help="the highest load offered, a multiple of the bare loop")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--threads", type=int, default=4, help="Dramatiq threads per worker")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=20,
                        help="seconds a step runs before it is measured")
    parser.add_argument("--duration", type=int, default=30, help="seconds a step is measured")
    parser.add_argument("--schemes", default="http,https",
                        help="which to measure (the last line needs both)")
    parser.add_argument("--from-unknown", action="store_true",
                        help="start every monitor unknown (the first round then flips them "
                             "all to up) rather than up, as in a running system")
    return parser.parse_args()


class Nginx:
    """A fast target: nginx answering 200 with a small body, one worker process, on a plain
    port and a TLS one (a certificate for 127.0.0.1 from a trustme CA, in `ca_file`)."""

    def __init__(self):
        self.port, self.tls_port = free_port(), free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pinghome-nginx-"))
        self.url = f"http://127.0.0.1:{self.port}/health"
        self.tls_url = f"https://127.0.0.1:{self.tls_port}/health"
        self.ca_file = str(self.dir / "ca.pem")

    def start(self) -> "Nginx":
        import trustme
        binary = ensure_program("nginx", "nginx-light")
        ca = trustme.CA()
        ca.cert_pem.write_to_path(self.ca_file)
        issued = ca.issue_cert("127.0.0.1")
        issued.private_key_and_cert_chain_pem.write_to_path(str(self.dir / "server.pem"))
        (self.dir / "nginx.conf").write_text(f"""
worker_processes 1; daemon off; pid {self.dir}/nginx.pid; error_log {self.dir}/error.log;
events {{ worker_connections 8192; }}
http {{ access_log off; client_body_temp_path {self.dir}; proxy_temp_path {self.dir};
  fastcgi_temp_path {self.dir}; uwsgi_temp_path {self.dir}; scgi_temp_path {self.dir};
  server {{ listen 127.0.0.1:{self.port} backlog=8192; location / {{ return 200 "ok\\n"; }} }}
  server {{ listen 127.0.0.1:{self.tls_port} ssl backlog=8192;
    ssl_certificate {self.dir}/server.pem; ssl_certificate_key {self.dir}/server.pem;
    location / {{ return 200 "ok\\n"; }} }} }}
""")
        self.process = subprocess.Popen([binary, "-c", str(self.dir / "nginx.conf")],
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                import urllib.request
                urllib.request.urlopen(self.url, timeout=1).read()
                return self
            except OSError:
                time.sleep(0.05)
        sys.exit("nginx did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def environment(postgres, redis, options, ca_file: str) -> dict:
    return {"PATH": os.environ["PATH"], "DATABASE_URL": postgres.url, "REDIS_URL": redis.url,
            "PINGHOME_TLS_CA_FILE": ca_file,
            "PINGHOME_SECRET_KEY": SECRET, "PINGHOME_REGIONS": "bench",
            "PINGHOME_ALLOW_PRIVATE_TARGETS": "true", "PINGHOME_NTP_SERVER": "off",
            "PINGHOME_PROBE_BATCH_SIZE": str(options.batch_size),
            "PINGHOME_WORKER_THREADS": str(options.threads), "PINGHOME_LOG_LEVEL": "WARNING",
            "PINGHOME_DATA_DIR": tempfile.mkdtemp(prefix="pinghome-bench-")}


def prepare_database(env, options, url, *, count: int) -> list:
    """Migrates (once) and inserts `count` monitors of `url` directly (the API would take
    minutes for 100k), disabled: each step enables as many as it offers. Answers their ids."""
    connection, service, now = migrated_with_service(env)
    with connection, connection.cursor() as cursor:
        status = "unknown" if options.from_unknown else "up"
        fixed = (f"http\t{url}\tGET\tf\tf\tf\t0\t0\t[\"bench\"]\t{options.interval}\t5\t"
                 f"f\t{status}\t1\t{now.isoformat()}\t{now.isoformat()}")
        ids = [uuid.uuid4() for _ in range(count)]
        rows = "".join(f"{id_}\t{service}\tm{n}\t{fixed}\n" for n, id_ in enumerate(ids))
        cursor.copy_from(io.StringIO(rows), "monitor", columns=(
            "id", "service_id", "name", "type", "url", "method", "skip_ssl_error",
            "not_follow_redirect", "is_advanced", "grace_period", "recovery_period", "regions",
            "interval_seconds", "timeout_seconds", "enabled", "status", "version", "created_at",
            "updated_at"))
        if not options.from_unknown:
            states = "".join(f"{uuid.uuid4()}\t{id_}\tbench\tup\t{now.isoformat()}\n"
                             for id_ in ids)
            cursor.copy_from(io.StringIO(states), "region_state", columns=(
                "id", "monitor_id", "region", "status", "changed_at"))
    connection.close()
    return ids


def step_up(env, redis, options, monitors: list, bare: "BareLoop", scheme: str) -> dict | None:
    """Offers ever more checks per second until a step does not hold; answers the figures of
    the highest step that held (None if the first did not). The bare loop is measured again
    after each step, so that the machine's drift over the run shows in its median."""
    start = bare.rate
    offered, held, first = start * options.start, None, None
    while offered <= start * options.most:
        count = min(len(monitors), round(offered * options.interval))
        enable(env["DATABASE_URL"], monitors[:count])
        flush(redis.url)                           # no message of the step before
        processes = start_pipeline(env, options)
        try:
            figures = measure(processes, options, env["DATABASE_URL"])
        finally:
            stop_all(processes)
        figures.update(monitors=count, offered=count / options.interval)
        bare.measure()
        holds = figures["lag_p99"] <= 1.0 and figures["rate"] >= 0.95 * figures["offered"]
        print(f"{scheme} step: offered {figures['offered']:,.0f} checks/s ({count:,} monitors)"
              f" -> recorded {figures['rate']:,.0f}/s, p99 lag {figures['lag_p99']:.2f} s, "
              f"worker RSS {figures['rss']:.0f} MiB: {'held' if holds else 'did not hold'}; "
              f"bare loop after it {bare.samples[-1]:,.0f}/s", flush=True)
        if not holds:
            break
        first = first or figures
        held, offered = figures, offered * options.step
    if held is not None:
        # what 10,000 more monitors cost a worker, from the first held step to the last (a
        # worker's RSS is mostly fixed: interpreter, libraries, pools)
        more = held["monitors"] - first["monitors"]
        held["rss_per_10k"] = (held["rss"] - first["rss"]) / (more / 10_000) if more else None
    return held


def flush(redis_url: str) -> None:
    import redis
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()


def enable(database_url: str, ids: list) -> None:
    import psycopg2
    connection = psycopg2.connect(database_url)
    with connection, connection.cursor() as cursor:
        cursor.execute("UPDATE monitor SET enabled = false WHERE enabled")
        cursor.execute("UPDATE monitor SET enabled = true WHERE id = ANY(%s::uuid[])",
                       ([str(i) for i in ids],))
        # a step starts from now, not from where the step before left off: its scheduler
        # would first catch up on the seconds between the steps, a burst of checks
        cursor.execute("DELETE FROM scheduler_state WHERE name = 'probes.watermark'")
    connection.close()


class BareLoop:
    """The baseline: `probe_http_many` alone, batches of `--batch-size` all in flight, against
    the same target, measured `seconds` at a time; its rate is the median of every
    measurement (on this shared machine one measurement moved by a third between runs)."""

    def __init__(self, url, options, *, ca_file: str, seconds: float = 6):
        from workers.probes.http import HttpRequest
        self.requests = [HttpRequest(url, allow_private=True, timeout=5, ca_file=ca_file)
                         ] * options.batch_size
        self.concurrency, self.seconds = options.batch_size, seconds
        self.samples: list[float] = []

    def measure(self) -> None:
        from workers.probes.http import probe_http_many
        done, started = 0, time.perf_counter()
        while time.perf_counter() - started < self.seconds:
            results = probe_http_many(self.requests, concurrency=self.concurrency)
            done += sum(r.ok for r in results)
        self.samples.append(done / (time.perf_counter() - started))

    @property
    def rate(self) -> float:
        # (not the statistics module: bench/statistics.py shadows it here)
        ordered, middle = sorted(self.samples), len(self.samples) // 2
        return ordered[middle] if len(ordered) % 2 else sum(ordered[middle - 1:middle + 1]) / 2

    def described(self) -> str:
        return f"{len(self.samples)} of {self.seconds:g} s: " + ", ".join(
            f"{rate:,.0f}" for rate in self.samples)


def start_pipeline(env, options) -> list:
    command = [sys.executable, "-m", "pinghome"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    workers = [subprocess.Popen(command + ["worker", "--region", "bench"], env=env, **quiet)
               for _ in range(options.workers)]
    return workers + [subprocess.Popen(command + ["scheduler"], env=env, **quiet)]


def measure(processes, options, database_url: str) -> dict:
    import psycopg2
    time.sleep(options.warmup)
    cpu_before = cpu_seconds()
    started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    rss = []
    deadline = time.monotonic() + options.duration
    while time.monotonic() < deadline:
        time.sleep(5)
        rss.append(sum(_rss_mib(p.pid) for p in processes[:-1]) / (len(processes) - 1))
    ended = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    cpu = {name: used - cpu_before.get(name, 0) for name, used in cpu_seconds().items()}
    connection = psycopg2.connect(database_url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(*) FILTER (WHERE ok) FROM check_result "
                       "WHERE checked_at >= %s AND checked_at < %s", (started, ended))
        total, passed = cursor.fetchone()
        cursor.execute("SELECT extract(epoch FROM checked_at - due_at) * 1000 - "
                       "coalesce(response_ms, 0) FROM check_result "
                       "WHERE checked_at >= %s AND checked_at < %s", (started, ended))
        lags = sorted(row[0] / 1000 for row in cursor.fetchall())
    connection.close()
    seconds = (ended - started).total_seconds()
    return {"rate": total / seconds, "passed": passed, "total": total,
            "lag_p50": _percentile(lags, 50), "lag_p99": _percentile(lags, 99),
            "rss": max(rss) if rss else 0.0,
            "cpu": {name: used / seconds for name, used in cpu.items()}}


def report(found: dict, options) -> None:
    print(f"workers: {options.workers} x {options.threads} threads, batches of "
          f"{options.batch_size}, a check every {options.interval} s per monitor")
    line = {}
    for scheme, (loop, held) in found.items():
        bare = loop.rate
        print(f"{scheme} bare loop: {bare:,.0f} checks/s, the median of {loop.described()}")
        if held is None:
            print(f"{scheme}: not even the first step ({options.start} x the bare loop) held")
            line[scheme] = (0.0, 0.0, float("nan"))
            continue
        print(f"{scheme} capacity: {held['rate']:,.0f} checks/s ({held['monitors']:,} monitors) ="
              f" {held['rate'] / bare:.2f} x the bare loop ({bare:,.0f}/s); scheduling lag p50 "
              f"{held['lag_p50']:.3f} s, p99 {held['lag_p99']:.3f} s; worker RSS "
              f"{held['rss']:.0f} MiB, of which {_per_10k(held)} per 10,000 monitors (from the "
              "first step held to the last)")
        print(f"{scheme} CPU (cores) by program: " + ", ".join(
            f"{name} {cores:.2f}" for name, cores in
            sorted(held["cpu"].items(), key=lambda c: -c[1])))
        line[scheme] = (held["rate"], held["rate"] / bare, held["lag_p99"])
    missed = (0.0, 0.0, float("nan"))
    (rate, ratio, lag), (tls_rate, tls_ratio, _) = (line.get("http", missed),
                                                    line.get("https", missed))
    print(f"bench probes: capacity {rate:,.0f} checks/s, {ratio:.2f} x bare loop, https "
          f"{tls_rate:,.0f} checks/s, {tls_ratio:.2f} x bare, p99 lag {lag:.2f} s")


def _per_10k(held: dict) -> str:
    value = held.get("rss_per_10k")
    return "n/a" if value is None else f"{value:.1f} MiB"


def cpu_seconds() -> dict:
    """CPU time used so far, by program, over every process of the machine."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        name = _program(command)
        used[name] = used.get(name, 0) + (int(fields[11]) + int(fields[12])) / ticks
    return used


def _program(command: list) -> str:
    words = [w.decode(errors="replace") for w in command if w]
    text = " ".join(words)
    for marker in ("pinghome worker", "pinghome scheduler", "postgres", "redis-server", "nginx"):
        if marker in text:
            return marker.replace("pinghome ", "")
    return "bench" if "bench/probes.py" in text else "other"


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _percentile(values, percent) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * percent / 100))]


if __name__ == "__main__":
    main()
