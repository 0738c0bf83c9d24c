"""The gateway app: what heartbeat senders, alert sources and server agents push to us.

A separate, lean app on its own port (`GATEWAY_PORT`), served as `pinghome.wsgi:gateway`:
`GET /v1/heartbeat/{id}` means "a heartbeat arrived" here and "read a heartbeat monitor" on
the API.
"""
from __future__ import annotations

import falcon

from api.pipeline import build_app
from api.resources import billing, health, metrics, servers
from api.resources.heartbeat_signals import HeartbeatSignal
from api.resources.webhook_events import WebhookEventIntake
from models.directory import Directory, uuid_text
from models.heartbeats import ingest
from models.heartbeats.operations import accepted_methods, all_accepted_methods
from models.heartbeats.stream import stream_for
from models.incidents import webhooks
from models.incidents.events import store_events
from models.intake import intake_for


def routes(settings, broker_check) -> list[tuple[str, object]]:
    # what comes in goes into these; the health check reads their backlogs
    signals, events = stream_for(settings), webhooks.stream_for(settings)
    # ids as the path's text rather than through Falcon's uuid converter (which cost a
    # third of a signal's Python): the directories parse only text they do not hold
    return [
        ("/v1/heartbeat/{heartbeat_id}", HeartbeatSignal(
            Directory(accepted_methods, all_accepted_methods, canonical=uuid_text),
            intake_for(signals, ingest.store))),
        ("/v1/incident/webhook/{webhook_id}", WebhookEventIntake(
            Directory(webhooks.known_webhook, webhooks.all_known_webhooks, canonical=uuid_text),
            intake_for(events, store_events))),
        ("/v1/health-check", health.HealthCheck(broker_check, signals, events)),
        ("/v1/server-resource/{server_id:uuid}/metrics", servers.AgentReport(settings)),
        ("/v1/billing/stripe-webhook", billing.StripeWebhook(settings)),
        ("/metrics", metrics.Metrics(settings, {"heartbeat_signals": signals,
                                               "webhook_events": events})),
    ]


def create_gateway(settings, *, broker_check) -> falcon.App:
    """The gateway over `settings` (the domain layer configured for them by the caller)."""
    return build_app(settings, routes(settings, broker_check), title="Pinghome gateway")
