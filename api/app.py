"""The API app: every path under `/v1/...` (and `/default/v1/...`) and the OCS API under `/api/...`.

gunicorn serves it as `pinghome.wsgi:api`; tests call `create_app(settings, broker_check=...)`.
"""
from __future__ import annotations

import falcon

from api.pipeline import build_app
from api.resources import (accounts, acknowledgements, api_keys, badges, billing, channels,
                           customers, domains, health, heartbeats, incidents, integrations,
                           metrics,
                           monitors, ocs, public_pages, rulesets, schedules, servers, services,
                           statuspages, subscriptions, teams, webhooks)
from models.heartbeats.stream import stream_for
from models.incidents import webhooks as webhooks_domain


def routes(settings, broker_check, page_cache=None) -> list[tuple[str, object]]:
    """The route table: the app and `/openapi.json` are both built from it."""
    page_cache = page_cache or public_pages.PageCache(settings.status_page_cache_seconds)
    streams = {"heartbeat_signals": stream_for(settings),
               "webhook_events": webhooks_domain.stream_for(settings)}
    return [
        ("/v1/account", accounts.AccountCollection(settings)),
        ("/v1/account/confirmation-code", accounts.ConfirmationCode(settings)),
        ("/v1/account/password", accounts.Password(settings)),
        ("/v1/auth", accounts.Auth(settings)),
        ("/v1/auth/refresh", accounts.AuthRefresh(settings)),
        ("/v1/customer", customers.CustomerSelf(settings)),
        ("/v1/customer/username", customers.Username(settings)),
        ("/v1/customer/feedback", customers.Feedback(settings)),
        ("/v1/customer/applied-voucher", billing.AppliedVoucher(settings)),
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
        *webhook_routes(settings),
        *incident_routes(settings),
        *schedule_routes(settings),
        *ocs_routes(settings),
        *statuspage_routes(settings),
        ("/v1/domain/{domain}/cname", domains.DomainCname(settings)),
        ("/v1/subscriptions", subscriptions.SubscriptionCollection(settings)),
        ("/v1/subscription/{token}", subscriptions.SubscriptionItem(settings)),
        ("/v1/subscription/{token}/verification",
         subscriptions.SubscriptionVerification(settings)),
        ("/v1/subscription/{token}/payments", billing.SubscriptionPayments(settings)),
        ("/v1/subscription/{token}/proration/{product_id}",
         billing.SubscriptionProration(settings)),
        ("/v1/organisation/purchase-info", billing.PurchaseInfo(settings)),
        ("/v1/organisation/plan", billing.OrganisationPlan(settings)),
        ("/v1/payment-methods", billing.PaymentMethods(settings)),
        ("/v1/coupon/{code}", billing.Coupon(settings)),
        ("/v1/api-keys", api_keys.ApiKeyCollection(settings)),
        ("/v1/api-key/{key_id:uuid}", api_keys.ApiKeyItem(settings)),
        *public_page_routes(settings, page_cache),
        *badge_routes(settings, page_cache),
        ("/v1/health-check", health.HealthCheck(broker_check, *streams.values())),
        ("/metrics", metrics.Metrics(settings, streams)),
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
        (f"{item}/badges", badges.MonitorBadgeUrls(settings)),
        (f"{item}/integrations", integrations.IntegrationList(settings)),
        (f"{item}/integration", integrations.IntegrationCollection(settings)),
        (f"{item}/integration/{{integration_id:uuid}}", integrations.IntegrationItem(settings)),
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
        # the gateway's GET /v1/heartbeat/{id} is a signal; this path is the API's alone
        (f"{item}/badges", badges.HeartbeatBadgeUrls(settings)),
        ("/v1/service/{service_id:uuid}/heartbeats", heartbeats.ServiceHeartbeats(settings)),
    ]


def incident_routes(settings) -> list[tuple[str, object]]:
    ruleset, incident = "/v1/ruleset/{ruleset_id:uuid}", "/v1/incident/{incident_id:uuid}"
    return [
        ("/v1/ruleset", rulesets.RulesetCollection(settings)),
        ("/v1/rulesets", rulesets.RulesetList(settings)),
        (ruleset, rulesets.RulesetItem(settings)),
        (f"{ruleset}/actions", rulesets.RulesetActions(settings)),
        ("/v1/team/{team_id:uuid}/incidents", incidents.TeamIncidents(settings)),
        ("/v1/team/{team_id:uuid}/incident", incidents.TeamIncidentCollection(settings)),
        (incident, incidents.IncidentItem(settings)),
        (f"{incident}/actions", incidents.IncidentActions(settings)),
        (f"{incident}/timeline", incidents.IncidentTimeline(settings)),
        (f"{incident}/acknowledgement", acknowledgements.Acknowledgement(settings)),
    ]


def schedule_routes(settings) -> list[tuple[str, object]]:
    team, customer = "/v1/team/{team_id:uuid}", "/v1/customer/{customer_id:uuid}"
    return [
        (f"{customer}/schedule", schedules.CustomerSchedule(settings)),
        (f"{customer}/schedule/calendar", schedules.CustomerCalendar(settings)),
        (f"{team}/schedule", schedules.TeamSchedule(settings)),
        (f"{team}/schedule/calendar", schedules.TeamCalendar(settings)),
        ("/v1/calendar/{token}.ics", schedules.CalendarFile(settings)),
    ]


def ocs_routes(settings) -> list[tuple[str, object]]:
    """The OCS API, trailing slashes as its seed writes them; `count/` wins over an id."""
    schedule = "/api/ocs/{schedule_id:int(min=1, max=2147483647)}/"
    tier = "/api/ocs-tier/{tier_id}/"        # an id or {ocs_id}_{number}
    return [
        ("/api/contacts/", ocs.ContactList(settings)),
        ("/api/ocs/", ocs.ScheduleCollection(settings)),
        ("/api/ocs/count/", ocs.ScheduleCount(settings)),
        (schedule, ocs.ScheduleItem(settings)),
        (f"{schedule}stats/", ocs.ScheduleStats(settings)),
        (f"{schedule}calendar/", ocs.ScheduleCalendar(settings)),
        ("/api/ocs-tier/", ocs.TierList(settings)),
        ("/api/ocs-tier/count/", ocs.TierCount(settings)),
        (tier, ocs.TierItem(settings)),
        (f"{tier}compute_tier/", ocs.TierCompute(settings)),
        ("/api/ocs-on-demand/", ocs.OnDemandCollection(settings)),
        ("/api/ocs-on-demand/count/", ocs.OnDemandCount(settings)),
        ("/api/ocs-on-demand/{shift_id:int(min=1, max=2147483647)}/",
         ocs.OnDemandItem(settings)),
    ]


def statuspage_routes(settings) -> list[tuple[str, object]]:
    page = "/v1/statuspage/{page_id:uuid}"
    return [
        ("/v1/statuspage", statuspages.PageCollection(settings)),
        ("/v1/statuspages", statuspages.PageList(settings)),
        (page, statuspages.PageItem(settings)),
        (f"{page}/status", statuspages.PageEnabled(settings)),
        (f"{page}/components", statuspages.PageComponents(settings)),
        (f"{page}/unified", statuspages.PageUnified(settings)),
        ("/v1/component/{component_id:uuid}/statistics",
         statuspages.ComponentStatistics(settings)),
    ]


def webhook_routes(settings) -> list[tuple[str, object]]:
    return [
        ("/v1/webhook", webhooks.WebhookCollection(settings)),
        ("/v1/webhooks", webhooks.WebhookList(settings)),
        ("/v1/webhook/{webhook_id:uuid}/events", webhooks.WebhookEvents(settings)),
    ]


def server_routes(settings) -> list[tuple[str, object]]:
    item = "/v1/server-resource/{server_id:uuid}"
    return [
        ("/v1/server-resource", servers.ServerCollection(settings)),
        (item, servers.ServerItem(settings)),
        (f"{item}/metrics", servers.ServerMetrics(settings)),
        ("/v1/service/{service_id:uuid}/server-resources", servers.ServiceServers(settings)),
    ]


def public_page_routes(settings, cache) -> list[tuple[str, object]]:
    page = "/status/{name}"
    return [
        (page, public_pages.PublicPage(settings, cache)),
        (f"{page}/summary.json", public_pages.PublicPageJson(settings, cache)),
        (f"{page}/feed.rss", public_pages.PublicFeed(settings, cache, "rss")),
        (f"{page}/feed.atom", public_pages.PublicFeed(settings, cache, "atom")),
        (f"{page}/login", public_pages.PublicLogin(settings, cache)),
        (f"{page}/subscribe", public_pages.PublicSubscribe(settings, cache)),
        ("/subscribers/{token}/confirm", public_pages.SubscriberLink(settings, cache, "confirm")),
        ("/subscribers/{token}/unsubscribe",
         public_pages.SubscriberLink(settings, cache, "unsubscribe")),
    ]


def badge_routes(settings, cache) -> list[tuple[str, object]]:
    """SVG badges: a public page's by its name, a monitor's or heartbeat's at a signed
    address (see `models.badges`)."""
    found = [("/badge/status/{name}.svg", badges.PageBadge(settings, cache))]
    for kind in ("monitor", "heartbeat"):
        for shows in ("status", "uptime"):
            found.append((f"/badge/{kind}/{{subject_id:uuid}}/{{signature}}/{shows}.svg",
                          badges.SubjectBadge(settings, cache, kind, shows)))
    return found


def channel_routes(settings, prefix: str, kind: str) -> list[tuple[str, object]]:
    return [
        (f"{prefix}/notification-channel", channels.ChannelCollection(settings, kind)),
        (f"{prefix}/notification-channels", channels.ChannelList(settings, kind)),
        (f"{prefix}/notification-channel/verification",
         channels.ChannelVerification(settings, kind)),
        (f"{prefix}/notification-channel/test", channels.ChannelTest(settings, kind)),
        (f"{prefix}/notification-channel/enabled", channels.ChannelEnabled(settings, kind)),
    ]


def create_app(settings, *, broker_check) -> falcon.App:
    """The API over `settings` (the domain layer configured for them by the caller);
    `broker_check()` raises when the broker cannot be reached (the health check)."""
    cache = public_pages.PageCache(settings.status_page_cache_seconds)
    return build_app(settings, routes(settings, broker_check, cache), title="Pinghome API",
                     middleware_first=[public_pages.StatusPageHost(settings),
                                       public_pages.ForgetPagesOnWrite(cache)])
