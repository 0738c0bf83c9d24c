"""The API app: every path under `/v1/...` (and `/default/v1/...`) and the OCS API under `/api/...`.

`gunicorn api.app:app` serves the module-level `app`, built from the environment on first use;
tests call `create_app(settings)`.
"""
from __future__ import annotations

import functools

import falcon

from api import errors, middleware, openapi
from api.resources import (accounts, channels, customers, health, heartbeats, monitors, servers,
                           services, teams)
from models.heartbeats.stream import stream_for
from models.settings import load_settings
from pinghome.runtime import prepare, settle_heap
from workers.broker import ping

VERSION = "0.1.0"


def routes(settings, broker) -> list[tuple[str, object]]:
    """The route table: the app and `/openapi.json` are both built from it."""
    return [
        ("/v1/account", accounts.AccountCollection(settings)),
        ("/v1/account/confirmation-code", accounts.ConfirmationCode(settings)),
        ("/v1/account/password", accounts.Password(settings)),
        ("/v1/auth", accounts.Auth(settings)),
        ("/v1/auth/refresh", accounts.AuthRefresh(settings)),
        ("/v1/customer", customers.CustomerSelf(settings)),
        ("/v1/customer/username", customers.Username(settings)),
        ("/v1/customer/feedback", customers.Feedback(settings)),
        ("/v1/customer/{customer_id:uuid}", customers.CustomerItem(settings)),
        *channel_routes(settings, "/v1/customer/{customer_id:uuid}", "customer"),
        ("/v1/team", teams.TeamCollection(settings)),
        ("/v1/teams", teams.TeamList(settings)),
        ("/v1/team/{team_id:uuid}", teams.TeamItem(settings)),
        ("/v1/team/{team_id:uuid}/members", teams.MemberList(settings)),
        ("/v1/team/{team_id:uuid}/member/{member_id:uuid}", teams.MemberItem(settings)),
        ("/v1/team/{team_id:uuid}/invitations", teams.InvitationList(settings)),
        ("/v1/team/{team_id:uuid}/invitation", teams.InvitationCollection(settings)),
        ("/v1/team/{team_id:uuid}/invitation/reminder", teams.InvitationReminder(settings)),
        ("/v1/invitation/{token}", teams.InvitationByToken(settings)),
        ("/v1/invitation/{token}/acceptance", teams.InvitationAcceptance(settings)),
        ("/v1/invitation/{token}/decline", teams.InvitationDecline(settings)),
        *channel_routes(settings, "/v1/team/{team_id:uuid}", "team"),
        ("/v1/team/{team_id:uuid}/services", services.TeamServices(settings)),
        ("/v1/service", services.ServiceCollection(settings)),
        ("/v1/service/{service_id:uuid}", services.ServiceItem(settings)),
        ("/v1/team-service/{service_id:uuid}", services.ServiceDetails(settings)),
        ("/v1/plan/{plan}/{version}/limits", services.PlanLimits(settings)),
        *monitor_routes(settings),
        *heartbeat_routes(settings),
        *server_routes(settings),
        ("/v1/health-check", health.HealthCheck(functools.partial(ping, broker),
                                                stream_for(settings))),
    ]


def monitor_routes(settings) -> list[tuple[str, object]]:
    item = "/v1/resource/{monitor_id:uuid}"
    routes = [
        ("/v1/resource", monitors.MonitorCollection(settings)),
        (item, monitors.MonitorItem(settings)),
        (f"{item}/status", monitors.MonitorStatus(settings)),
        (f"{item}/regions", monitors.MonitorRegions(settings)),
        (f"{item}/statistic", monitors.MonitorStatistic(settings)),
        (f"{item}/state-changed-logs", monitors.MonitorStateLog(settings)),
        ("/v1/service/{service_id:uuid}/resources", monitors.ServiceMonitors(settings)),
    ]
    for kind in ("ssl", "tld"):
        reminder = monitors.MonitorReminder(settings, kind)
        routes += [(f"{item}/{kind}", monitors.MonitorFacts(settings, kind)),
                   (f"{item}/{kind}/reminder", reminder),
                   # the seed's code examples use these paths; the endpoint list's are canonical
                   (f"/v1/{kind}/reminder/{{monitor_id:uuid}}", reminder),
                   (f"/v1/{{monitor_id:uuid}}/{kind}/reminder", reminder)]
    return routes


def heartbeat_routes(settings) -> list[tuple[str, object]]:
    item = "/v1/heartbeat/{heartbeat_id:uuid}"
    return [
        ("/v1/heartbeat", heartbeats.HeartbeatCollection(settings)),
        (item, heartbeats.HeartbeatItem(settings)),
        (f"{item}/statistic", heartbeats.HeartbeatStatistic(settings)),
        (f"{item}/events", heartbeats.HeartbeatEvents(settings)),
        ("/v1/service/{service_id:uuid}/heartbeats", heartbeats.ServiceHeartbeats(settings)),
    ]


def server_routes(settings) -> list[tuple[str, object]]:
    item = "/v1/server-resource/{server_id:uuid}"
    return [
        ("/v1/server-resource", servers.ServerCollection(settings)),
        (item, servers.ServerItem(settings)),
        (f"{item}/metrics", servers.ServerMetrics(settings)),
        ("/v1/service/{service_id:uuid}/server-resources", servers.ServiceServers(settings)),
    ]


def channel_routes(settings, prefix: str, kind: str) -> list[tuple[str, object]]:
    return [
        (f"{prefix}/notification-channel", channels.ChannelCollection(settings, kind)),
        (f"{prefix}/notification-channels", channels.ChannelList(settings, kind)),
        (f"{prefix}/notification-channel/verification",
         channels.ChannelVerification(settings, kind)),
        (f"{prefix}/notification-channel/test", channels.ChannelTest(settings, kind)),
        (f"{prefix}/notification-channel/enabled", channels.ChannelEnabled(settings, kind)),
    ]


def build_app(settings, table, *, title: str) -> falcon.App:
    """A Falcon app with the shared pipeline, error shapes and `/openapi.json` over `table`."""
    app = falcon.App(middleware=[
        middleware.StripDefaultPrefix(),
        middleware.BodySizeLimit(settings.max_body_bytes),
        middleware.DatabaseConnection(),
        middleware.Authentication(settings),
        middleware.Validation(settings.max_body_bytes),
    ])
    errors.register(app)
    for template, resource in table:
        app.add_route(template, resource)
    document = openapi.build_document(table, title=title, version=VERSION)
    app.add_route("/openapi.json", OpenApiDocument(document))
    return app


def create_app(settings) -> falcon.App:
    broker = prepare(settings)
    return build_app(settings, routes(settings, broker), title="Pinghome API")


class OpenApiDocument:
    PUBLIC = {"GET"}

    def __init__(self, document):
        self.document = document

    def on_get(self, req, resp):
        """The OpenAPI document of this app."""
        resp.media = self.document


@functools.cache
def _app_from_environment() -> falcon.App:
    app = create_app(load_settings())
    settle_heap()
    return app


def __getattr__(name):   # `api.app:app` for gunicorn, built only when asked for
    if name == "app":
        return _app_from_environment()
    raise AttributeError(name)
