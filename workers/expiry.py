"""A daily look at the certificate or domain registration behind a monitor with a reminder."""
from __future__ import annotations

from urllib.parse import urlsplit

from models.monitors import facts
from models.monitors.tables import Monitor
from workers.probes import ssl, whois


def look(monitor_id, kind: str, *, settings, now) -> None:
    """Probes the monitor's certificate (`ssl`) or domain (`tld`) and keeps the facts."""
    monitor = Monitor.get_or_none(Monitor.id == monitor_id)
    if monitor is None or not monitor.host:
        return
    common = {"timeout": 15, "allow_private": settings.allow_private_targets, "now": now}
    if kind == "ssl":
        port = monitor.port if monitor.type == "ssl" else urlsplit(monitor.url or "").port or 443
        probe = ssl.probe_ssl(monitor.host, port, ca_file=settings.tls_ca_file, **common)
    else:
        probe = whois.probe_tld(monitor.host, rdap_bootstrap_url=settings.rdap_bootstrap_url,
                                whois_server=settings.whois_server, **common)
    if probe.details:
        facts.save(monitor, kind, probe.details, now=now)
