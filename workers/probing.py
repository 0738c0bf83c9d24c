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

log = logging.getLogger(__name__)

_pool = ThreadPoolExecutor(max_workers=64, thread_name_prefix="probe")
_cache = checks.MonitorCache()


def run_batch(region: str, due_epoch: int, entries: list, *, settings, now) -> int:
    """Probes the batch's monitors (dropping checks older than their interval: a late check
    says nothing about now) and records the outcomes. Answers how many were new."""
    due_at = dt.datetime.fromtimestamp(due_epoch, dt.timezone.utc)
    monitors = _cache.get(entries)
    fresh = [m for m in monitors.values()
             if (now - due_at).total_seconds() <= m.interval_seconds]
    if len(fresh) < len(monitors):
        log.warning("dropped %d stale checks of %s in %s", len(monitors) - len(fresh),
                    due_at.isoformat(), region)
    started = clock.now()          # each check's time: when the batch was probed
    probes = probe_all(fresh, region=region, settings=settings, now=now)
    outcomes = [_outcome(monitor, probe, due_at, started) for monitor, probe in zip(fresh, probes)]
    store_facts([(m, p) for m, p in zip(fresh, probes) if m.type in ("ssl", "tld")], now=now)
    return recording.record(region, outcomes, monitors, now=clock.now())


def probe_all(monitors: list, *, region: str, settings, now) -> list:
    """The probe result of each monitor, in order."""
    web = [i for i, m in enumerate(monitors) if m.type in ("http", "keyword")]
    results = [None] * len(monitors)
    others = {i: _pool.submit(probe_one, monitors[i], settings=settings, now=now)
              for i in range(len(monitors)) if i not in set(web)}
    requests = [http_request(monitors[i], region, settings) for i in web]
    for i, result in zip(web, probe_http_many(requests)):
        results[i] = result
    for i, future in others.items():
        results[i] = future.result()
    return results


def http_request(monitor, region: str, settings) -> HttpRequest:
    """The monitor's request; it tells the target which region probes it (for allow-lists
    and for telling regions apart in the target's logs)."""
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
    error = checks.judge(monitor, probe, _cache.conditions_of(monitor))
    return recording.Outcome(monitor_id=monitor.id, due_at=due_at, checked_at=checked_at,
                             ok=error is None, response_ms=probe.response_ms,
                             status_code=probe.status_code, timings=probe.timings, error=error)
