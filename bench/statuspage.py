"""Benchmark: the public status page (HTML and JSON) under load while incidents open and
resolve, beside a bare Falcon app.

Starts Postgres and Redis on loopback, migrates, adds an organisation with 50 http monitors
(created 30 days ago, each down twice since) and a public page with 50 components following
them (30 in three groups), and a few resolved incidents naming them. Then it serves, under the
same gunicorn configuration (the Procfile's `web`: gthread workers, 4 threads; 2 workers),
first the API (`pinghome.wsgi:api`) and then a bare Falcon app answering the very bytes the
page answered, and loads each with wrk on loopback, the requests taking turns between
`/status/bench`, `/status/bench/summary.json` and `/status/bench` asking for JSON.

While the API is loaded, a side thread changes what the page shows every few seconds, the
way the workers would, straight in the database (so no API process drops its cache on the
write): it opens an incident naming a component in its `trigger-alerts` action, or takes a
component's monitor down (region state, state changes, monitor row), then undoes it. After
each change it polls the page's JSON until the component shows its new status in every
answer for longer than the page cache lasts; the change is visible from the first answer of
that unbroken run. Run: .venv/bin/python bench/statuspage.py [--seconds S] ...
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import json
import random
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.alerting import add_monitor  # noqa: E402
from bench.gateway import (ensure_wrk, environment, load, serve, stop, stop_all,  # noqa: E402
                           wait_http)
from bench.rows import migrated_with_service  # noqa: E402
from pinghome.localservers import Postgres, Redis  # noqa: E402

PAGE = "bench"
PATHS = (f"/status/{PAGE}", f"/status/{PAGE}/summary.json")
CACHE_SECONDS = 1.0          # PINGHOME_STATUS_PAGE_CACHE_SECONDS: the default
# gunicorn's options for the Procfile's web process (the API) and for its gateway
WORKERS = {"gthread": lambda options: ["--worker-class", "gthread",
                                       "--threads", str(options.worker_threads)],
           "gevent": lambda options: ["--worker-class", "gevent",
                                      "--worker-connections", "1000"]}
# the three ways to ask for the page, in turn
WRK_SCRIPT = textwrap.dedent("""\
    local n = 0
    request = function()
      n = n + 1
      if n %% 3 == 0 then
        return wrk.format("GET", "%s", {["Accept"] = "application/json"})
      elseif n %% 3 == 1 then
        return wrk.format("GET", "%s")
      end
      return wrk.format("GET", "%s")
    end
""") % (PATHS[0], PATHS[0], PATHS[1])


def main() -> None:
    options = parse_options()
    wrk = ensure_wrk()
    postgres, redis = Postgres().start(), Redis(appendonly=True).start()
    processes: list[subprocess.Popen] = []
    try:
        env = {**environment(postgres, redis),
               "PINGHOME_STATUS_PAGE_CACHE_SECONDS": str(CACHE_SECONDS)}
        db, bench = prepare_database(env, random.Random(7))
        folder = Path(tempfile.mkdtemp(prefix="pinghome-bench-"))
        script = folder / "page.lua"
        script.write_text(WRK_SCRIPT)
        api = run_app("pinghome.wsgi:api", env, options, wrk, script, processes,
                      changes=(db, bench), saved=folder)
        bare = run_app("bench.bare_app:app", {**env, "PINGHOME_BENCH_PAGES": str(folder)},
                       options, wrk, script, processes)
        report(api, bare, folder)
    finally:
        stop_all(processes)
        redis.destroy()
        postgres.destroy()


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60,
                        help="load time per app (a minute: the daily uptime is read anew "
                             "once a minute, and the run should see it)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", "--wrk-threads", dest="wrk_threads", type=int, default=2,
                        help="wrk's threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--worker-class", choices=tuple(WORKERS), default="gthread",
                        help="gunicorn's workers: the Procfile's web (gthread, the default) "
                             "or its gateway (gevent)")
    parser.add_argument("--worker-threads", type=int, default=4,
                        help="threads per gthread worker (the Procfile's)")
    parser.add_argument("--pause", type=float, default=1.0,
                        help="seconds between one change showing and the next change")
    return parser.parse_args()


# -- the rows ---------------------------------------------------------------------------------

@dataclasses.dataclass
class Bench:
    database_url: str
    organisation: str
    team: str
    page: str
    components: list[tuple[str, str]]      # (component id, its monitor's id), in page order


def prepare_database(env, draw: random.Random):
    """Migrates and inserts every row directly; answers an open connection and the rows the
    changes are made to."""
    db, service, now = migrated_with_service(env)
    created = now - dt.timedelta(days=30)
    with db, db.cursor() as cursor:
        cursor.execute("SELECT t.organisation_id, t.id FROM team t JOIN service s "
                       "ON s.team_id = t.id WHERE s.id = %s", (service,))
        organisation, team = cursor.fetchone()
        monitors = [add_monitor(cursor, team, f"http://127.0.0.1:9/api-{n}", 60, created)
                    for n in range(50)]
        for monitor in monitors:
            add_outages(cursor, monitor, draw, created, now)
        page = add_page(cursor, organisation, created)
        components = add_components(cursor, page, monitors, created)
        for n in range(5):
            at = now - dt.timedelta(days=draw.uniform(1, 13))
            named = draw.sample(components, 2)
            add_incident(cursor, organisation, team, page, [c for c, _ in named],
                         f"Past incident {n}", at, resolved_at=at + dt.timedelta(minutes=40))
    return db, Bench(env["DATABASE_URL"], organisation, team, page, components)


def add_outages(cursor, monitor: str, draw: random.Random, since, now) -> None:
    """Two past outages of the monitor (overall state changes, their rules applied)."""
    status = "up"
    for _ in range(2):
        start = since + dt.timedelta(seconds=draw.uniform(0, (now - since).total_seconds()))
        for to, at in (("down", start), ("up", start + dt.timedelta(minutes=draw.randint(5, 90)))):
            add_state_change(cursor, monitor, None, status, to, min(at, now))
            status = to


def add_state_change(cursor, monitor: str, region, before: str, after: str, at) -> None:
    cursor.execute(
        "INSERT INTO state_change (id, subject_type, subject_id, region, from_status, "
        "to_status, changed_at, trigger_key, recorded_at, rules_applied_at) VALUES "
        "(%s, 'monitor', %s, %s, %s, %s, %s, %s, %s, %s)",
        (str(uuid.uuid4()), monitor, region, before, after, at, str(uuid.uuid4()), at, at))


def add_page(cursor, organisation: str, now) -> str:
    page = str(uuid.uuid4())
    cursor.execute(
        "INSERT INTO status_page (id, organisation_id, name, description, subdomain, type, "
        "ip_addresses, enabled, dark_theme, redirect_to_https, remove_branding, "
        "robots_meta_contents, subscription_enabled, created_at, updated_at) VALUES "
        "(%s, %s, 'Bench', 'What Bench runs, live.', %s, 'public', '[]', true, false, true, "
        "false, '[]', false, %s, %s)", (page, organisation, PAGE, now, now))
    return page


def add_components(cursor, page: str, monitors: list[str], now) -> list[tuple[str, str]]:
    """One component per monitor: 20 on their own, then three groups of ten."""
    groups = [None] * 20
    for position, name in enumerate(("API", "Websites", "Regions")):
        group = str(uuid.uuid4())
        cursor.execute("INSERT INTO component_group (id, page_id, name, position) "
                       "VALUES (%s, %s, %s, %s)", (group, page, name, position))
        groups += [group] * 10
    components = []
    for position, (monitor, group) in enumerate(zip(monitors, groups)):
        component = str(uuid.uuid4())
        cursor.execute(
            "INSERT INTO component (id, page_id, group_id, name, description, type, "
            "subject_id, manual_status, position, created_at) VALUES (%s, %s, %s, %s, %s, "
            "'resource', %s, 'operational', %s, %s)",
            (component, page, group, f"Component {position}",
             "Served from two regions." if position % 3 == 0 else None, monitor, position,
             now))
        components.append((component, monitor))
    return components


def add_incident(cursor, organisation, team, page, component_ids: list[str], name: str, at,
                 resolved_at=None) -> str:
    """An incident whose trigger-alerts action names the components (critical: they show
    a major outage while it is open), as a ruleset's would."""
    incident = str(uuid.uuid4())
    actions = [{"id": str(uuid.uuid4()), "type": "trigger-alerts",
                "settings": [{"status_page_id": page, "component_id": c}
                             for c in component_ids]}]
    cursor.execute(
        "INSERT INTO incident (id, organisation_id, team_id, source, name, urgency, status, "
        "assignees, actions, created_at, updated_at, resolved_at) VALUES (%s, %s, %s, "
        "'manual', %s, 'critical', %s, '[]', %s, %s, %s, %s)",
        (incident, organisation, team, name, "resolved" if resolved_at else "triggered",
         json.dumps(actions), at, resolved_at or at, resolved_at))
    return incident


# -- serving and loading ----------------------------------------------------------------------

def run_app(app: str, env, options, wrk: str, script: Path, processes: list, *,
            changes=None, saved: Path | None = None) -> dict:
    """Serves `app` with the workers `--worker-class` names, loads it (while `changes`, a
    connection and the rows to change, are made and watched), stops it."""
    server, port = serve(app, env, options, processes, WORKERS[options.worker_class](options))
    base = f"http://127.0.0.1:{port}"
    wait_http(base + PATHS[0])
    load(wrk, script, port, seconds=3, options=options)     # warm up: caches, connections
    if saved is not None:         # what the bare app answers: the page's bytes, as they are
        for path, name in zip(PATHS, ("page.html", "summary.json")):
            (saved / name).write_bytes(urllib.request.urlopen(base + path).read())
    transactions = committed(changes[0]) if changes else 0
    watcher = Watcher(base, changes[1], options.pause) if changes else None
    figures = load(wrk, script, port, seconds=options.seconds, options=options)
    if watcher:
        figures["transactions"] = committed(changes[0]) - transactions
        figures["changes"] = watcher.finish()
    stop(server, processes)
    print(f"{app}: {figures['rate']:,.0f} requests/s, p99 {figures['p99_ms']:.2f} ms, "
          f"{figures['requests']:,} answered, {figures['errors']:,} not 200", flush=True)
    return figures


def committed(db) -> int:
    """The transactions Postgres has committed in the bench database (each query outside a
    transaction is one)."""
    with db, db.cursor() as cursor:
        cursor.execute("SELECT xact_commit FROM pg_stat_database "
                       "WHERE datname = current_database()")
        return cursor.fetchone()[0]


# -- the changes ------------------------------------------------------------------------------

class Watcher:
    """Changes the page in turns (an incident opened and resolved, a monitor down and up
    again) from a thread, each time on the next component, and times each change until it
    shows. A change still being watched when the load ends is left out."""

    def __init__(self, base: str, bench: Bench, pause: float):
        import psycopg2
        self.url = base + PATHS[1]
        self.bench, self.pause = bench, pause
        self.db = psycopg2.connect(bench.database_url)
        self.timings: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def finish(self) -> list[dict]:
        self._stop.set()
        self._thread.join(30)
        self.db.close()
        return self.timings

    def _run(self) -> None:
        components = itertools.cycle(self.bench.components)
        for kind in itertools.cycle(("incident", "monitor")):
            component, monitor = next(components)
            if self._stop.wait(self.pause):
                return
            undo = self._incident(component) if kind == "incident" else self._down(monitor)
            self._time(kind, component, "major_outage")
            self._stop.wait(self.pause)
            undo()                        # even when the load has ended: the page as it was
            self._time(f"{kind} undone", component, "operational")

    def _time(self, kind: str, component: str, status: str) -> None:
        shown = self._shown(component, status, time.monotonic())
        if shown is not None:
            self.timings.append({"kind": kind, **shown})

    def _incident(self, component: str):
        bench = self.bench
        with self.db, self.db.cursor() as cursor:
            incident = add_incident(cursor, bench.organisation, bench.team, bench.page,
                                    [component], "Bench incident", now())

        def resolve():
            with self.db, self.db.cursor() as cursor:
                cursor.execute("UPDATE incident SET status = 'resolved', resolved_at = %s, "
                               "updated_at = %s WHERE id = %s", (now(), now(), incident))
        return resolve

    def _down(self, monitor: str):
        """As a worker records a monitor's one region going down: the region's state and
        change, the overall change and the monitor's status, in one transaction."""
        self._move(monitor, "up", "down")
        return lambda: self._move(monitor, "down", "up")

    def _move(self, monitor: str, before: str, after: str) -> None:
        at = now()
        with self.db, self.db.cursor() as cursor:
            cursor.execute("UPDATE region_state SET status = %s, changed_at = %s "
                           "WHERE monitor_id = %s", (after, at, monitor))
            add_state_change(cursor, monitor, "bench", before, after, at)
            add_state_change(cursor, monitor, None, before, after, at)
            cursor.execute("UPDATE monitor SET status = %s, status_changed_at = %s "
                           "WHERE id = %s", (after, at, monitor))

    def _shown(self, component: str, status: str, started: float, timeout: float = 15):
        """Polls the JSON until `status` has been in every answer for longer than the page
        cache lasts; answers when it first showed, and from when it showed in every answer
        (None if the load ended first)."""
        first = steady = None
        while not self._stop.is_set():
            try:
                body = urllib.request.urlopen(self.url, timeout=5).read()
            except OSError:          # no answer in time under the load: ask again
                body = None
            at = time.monotonic() - started
            if body is not None and component_status(body, component) == status:
                first = at if first is None else first
                steady = at if steady is None else steady
                if at - steady > CACHE_SECONDS + 0.5:
                    return {"first": first, "visible": steady}
            else:
                steady = None
            if at > timeout:
                return {"first": first, "visible": float("inf")}
            time.sleep(0.05)
        return None


def component_status(body: bytes, component: str) -> str | None:
    view = json.loads(body)
    for item in view["components"] + [c for g in view["groups"] for c in g["components"]]:
        if item["id"] == component:
            return item["status"]
    return None


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


# -- the report -------------------------------------------------------------------------------

def report(api: dict, bare: dict, saved: Path) -> None:
    sizes = ", ".join(f"{name} {(saved / name).stat().st_size / 1024:,.0f} KiB"
                      for name in ("page.html", "summary.json"))
    print(f"\nanswers: {sizes} (the bare app answers the same bytes)")
    print(f"{'':<12}{'req/s':>10}{'p99 ms':>10}{'answered':>12}{'not 200':>10}"
          f"{'socket errors':>15}")
    for name, figures in (("status page", api), ("bare app", bare)):
        print(f"{name:<12}{figures['rate']:>10,.0f}{figures['p99_ms']:>10.2f}"
              f"{figures['requests']:>12,}{figures['errors']:>10,}"
              f"{figures['socket_errors']:>15,}")
    per_thousand = 1000 * api["transactions"] / max(1, api["requests"])
    print(f"Postgres transactions while the page was loaded: {api['transactions']:,} "
          f"({per_thousand:.1f} per 1,000 requests, the watcher's included)")
    changes = api["changes"]
    print(f"\n{'change':<18}{'count':>6}{'first seen s (median, max)':>30}"
          f"{'visible s (median, max)':>27}")
    for kind in ("incident", "incident undone", "monitor", "monitor undone"):
        found = [c for c in changes if c["kind"] == kind]
        if found:
            print(f"{kind:<18}{len(found):>6}{_spread([c['first'] for c in found]):>30}"
                  f"{_spread([c['visible'] for c in found]):>27}")
    worst = max((c["visible"] for c in changes), default=float("nan"))
    print(f"bench statuspage: {api['rate']:,.0f} req/s, {api['rate'] / bare['rate']:.2f} x "
          f"bare app, p99 {api['p99_ms']:.2f} ms, change visible in {worst:.2f} s")


def _spread(values: list) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return "never"
    known.sort()
    return f"{known[len(known) // 2]:.2f}, {known[-1]:.2f}"


if __name__ == "__main__":
    main()
