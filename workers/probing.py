"""Running one batch of checks in a region: the worker's part between the broker and the domain.

HTTP-like checks run together in one libcurl multi handle; the others (ping, port, ssl, tld)
run on a shared thread pool, since they wait on the network. The batch's outcomes are recorded
in one transaction.
"""
from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor

from models import clock
from models.monitors import checks, recording, spec
from models.monitors.facts import store_facts
from workers.probes import icmp, ssl, tcp, whois
from workers.probes.http import HttpRequest, probe_http_many
from workers.probes.result import ProbeResult

log = logging.getLogger(__name__)

REDO_LIMIT_SECONDS = 600

_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="probe")
_cache = checks.MonitorCache()


def run_batch(region: str, due_epoch: int, entries: list, *, settings, now,
              again: bool = False) -> int:
    """Probes the batch's monitors and records the outcomes; answers how many were new.

    A check later than its interval is dropped (a queue that fell behind catches up on the
    present rather than the past), unless the batch runs `again` (redelivered from a killed
    worker, or retried): it was due and started, so it is finished, up to
    `REDO_LIMIT_SECONDS` late, and no due check is lost to a crash or a restart."""
    due_at = dt.datetime.fromtimestamp(due_epoch, dt.timezone.utc)
    monitors = _cache.get(entries)
    late, limit = (now - due_at).total_seconds(), REDO_LIMIT_SECONDS if again else 0
    fresh = [m for m in monitors.values() if late <= max(m.interval_seconds, limit)]
    if len(fresh) < len(monitors):
        log.warning("dropped %d stale checks of %s in %s", len(monitors) - len(fresh),
                    due_at.isoformat(), region)
    started = clock.now()          # each check's time: when the batch was probed
    probes = probe_all(fresh, region=region, settings=settings, now=now)
    outcomes = [_outcome(monitor, probe, due_at, started) for monitor, probe in zip(fresh, probes)]
    store_facts([(m, p) for m, p in zip(fresh, probes) if m.type in ("ssl", "tld")], now=now)
    return recording.record(region, outcomes, monitors, now=clock.now())


def probe_all(monitors: list, *, region: str, settings, now) -> list:
    """The probe result of each monitor, in order. Whatever goes wrong with one check (a
    probe that raises, conditions that cannot be used) is that check's failed result."""
    web, requests = [], []
    results = [None] * len(monitors)
    others = {}
    for i, monitor in enumerate(monitors):
        if monitor.type not in ("http", "keyword"):
            others[i] = _pool.submit(_guarded, probe_one, monitor, settings=settings, now=now)
            continue
        request = _guarded(http_request, monitor, region, settings)
        if isinstance(request, ProbeResult):
            results[i] = request
        else:
            web.append(i)
            requests.append(request)
    for i, result in zip(web, probe_http_many(requests)):
        results[i] = result
    for i, future in others.items():
        results[i] = future.result()
    return results


def _guarded(run, *args, **kwargs):
    """`run(...)`, or a failed result naming what it raised."""
    try:
        return run(*args, **kwargs)
    except Exception as exc:
        log.exception("a check could not run")
        return ProbeResult.failure(f"the check could not run: {type(exc).__name__}: {exc}")


def http_request(monitor, region: str, settings) -> HttpRequest:
    """The monitor's request (made once per version of the monitor); it tells the target
    which region probes it (for allow-lists and for telling regions apart in its logs)."""
    return _cache.request_of(
        monitor, (region, settings.tls_ca_file, settings.allow_private_targets),
        lambda: _new_request(monitor, region, settings))


def _new_request(monitor, region: str, settings) -> HttpRequest:
    headers = {"X-Pinghome-Region": region, **(monitor.headers or {})}
    wanted = checks.response_needs(monitor, _cache.conditions_of(monitor))
    return HttpRequest(url=monitor.url, method=monitor.method or "GET", headers=headers,
                       body=monitor.body, timeout=monitor.timeout_seconds,
                       follow_redirects=not monitor.not_follow_redirect,
                       verify_tls=not monitor.skip_ssl_error, ca_file=settings.tls_ca_file,
                       allow_private=settings.allow_private_targets,
                       want_headers="headers" in wanted, want_body="body" in wanted)


def probe_one(monitor, *, settings, now):
    """A ping, port, ssl or tld probe of `monitor`."""
    common = {"timeout": monitor.timeout_seconds, "allow_private": settings.allow_private_targets}
    if monitor.type == "ping":
        return icmp.probe_ping(monitor.host, **common)
    if monitor.type == "port":
        return tcp.probe_port(monitor.host, monitor.port, protocol=spec.protocol_of(monitor),
                              ca_file=settings.tls_ca_file, **common)
    if monitor.type == "ssl":
        return ssl.probe_ssl(monitor.host, monitor.port or 443, ca_file=settings.tls_ca_file,
                             now=now, **common)
    return whois.probe_tld(monitor.host, rdap_bootstrap_url=settings.rdap_bootstrap_url,
                           whois_server=settings.whois_server, now=now, **common)


def _outcome(monitor, probe, due_at, checked_at) -> recording.Outcome:
    try:
        error = checks.judge(monitor, probe, _cache.conditions_of(monitor))
    except Exception as exc:         # this check's failure, not its batch-mates'
        log.exception("a check could not be judged")
        error = f"the check could not be judged: {type(exc).__name__}: {exc}"
    return recording.Outcome(monitor_id=monitor.id, due_at=due_at, checked_at=checked_at,
                             ok=error is None, response_ms=probe.response_ms,
                             status_code=probe.status_code, timings=probe.timings, error=error)
