"""Status pages (endpoints 102-106, 108-111): what each request may carry, and the answers.
Rules that need the database (subdomains taken, subjects of the organisation) live in
`models.statuspages`."""
from __future__ import annotations

import ipaddress
import uuid
from typing import Annotated, Literal

import pydantic
from pydantic import Field, StringConstraints

from api.schemas.base import Body, Title
from api.schemas.webhooks import Description
from models.clock import isoformat

PageType = Literal["public", "private"]
ComponentType = Literal["resource", "heartbeat", "server", "manual"]
ComponentStatus = Literal["operational", "degraded_performance", "partial_outage",
                          "major_outage", "under_maintenance"]


def _lower(value):
    return value.strip().lower() if isinstance(value, str) else value


# the lowering validator comes after the constraints, which still run after it: in front of
# them it hid their pattern from /openapi.json
Subdomain = Annotated[str, StringConstraints(
    pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"), pydantic.BeforeValidator(_lower),
    Field(description="1-63 lowercase letters, digits and hyphens (not at either end)")]
Domain = Annotated[str, StringConstraints(
    max_length=253,
    pattern=r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"),
    pydantic.BeforeValidator(_lower)]
Path = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000,
                                       pattern=r"^https?://\S+$")]
Password = Annotated[str, StringConstraints(max_length=128)]


def _cidr(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value.strip(), strict=False))
    except ValueError:
        raise ValueError("must be an IP address or CIDR network") from None


Cidr = Annotated[str, StringConstraints(max_length=64), pydantic.AfterValidator(_cidr)]
RobotsValue = Literal["index", "noindex", "follow", "nofollow", "all", "none", "noarchive",
                      "nosnippet", "noimageindex"]


class ComponentIn(Body):
    id: uuid.UUID | None = Field(None, description="one of the page's: kept (with its id)")
    name: Title
    description: Description | None = None
    status: ComponentStatus = Field(
        "operational", description="shown by a manual component; others derive theirs")
    type: ComponentType
    resource_id: uuid.UUID | None = Field(
        None, description="the monitor, heartbeat or server (by type) the component follows")


Components = Annotated[list[ComponentIn], Field(max_length=200)]


class GroupIn(Body):
    id: uuid.UUID | None = Field(None, description="one of the page's: kept (with its id)")
    name: Title
    components: Components = []


class PageFields(Body):
    name: Title | None = None
    description: Description | None = None
    subdomain: Subdomain | None = None
    type: PageType | None = None
    password: Password | None = None
    domain: Domain | None = None
    page_name: Title | None = None
    dark_theme: bool | None = None
    favicon: Path | None = None
    logo: Path | None = None
    redirect_to_https: bool | None = None
    remove_branding: bool | None = None
    robots_meta_contents: Annotated[list[RobotsValue], Field(max_length=10)] | None = None
    website_url: Url | None = None
    privacy_url: Url | None = None
    support_url: Url | None = None
    ga_tracking: Annotated[str, StringConstraints(strip_whitespace=True,
                                                  max_length=64)] | None = None
    ip_addresses: Annotated[list[Cidr], Field(max_length=100)] | None = None
    subscription_enabled: bool | None = None
    components: Components | None = None
    groups: Annotated[list[GroupIn], Field(max_length=50)] | None = None

    def given(self) -> dict:
        """The fields the request carried (an explicit null clears an optional one)."""
        return self.model_dump(exclude_unset=True, mode="python")


class PageCreate(PageFields):
    name: Title
    subdomain: Subdomain
    type: PageType = "public"


class PageUpdate(PageFields):
    update_password: bool = False


class PageEnabled(Body):
    enabled: bool


def page_out(page) -> dict:
    return {"id": str(page.id), "name": page.name, "description": page.description,
            "subdomain": page.subdomain, "domain": page.domain, "type": page.type,
            "enabled": page.enabled, "has_password": page.password_hash is not None,
            "ip_addresses": page.ip_addresses, **theme_out(page),
            "redirect_to_https": page.redirect_to_https,
            "robots_meta_contents": page.robots_meta_contents,
            "website_url": page.website_url, "privacy_url": page.privacy_url,
            "support_url": page.support_url, "ga_tracking": page.ga_tracking,
            "subscription_enabled": page.subscription_enabled,
            "created_at": isoformat(page.created_at), "updated_at": isoformat(page.updated_at)}


def theme_out(page) -> dict:
    return {"page_name": page.page_name, "dark_theme": page.dark_theme, "logo": page.logo,
            "favicon": page.favicon, "remove_branding": page.remove_branding}


def component_out(component, shown) -> dict:
    return {"id": str(component.id), "statuspage_id": str(component.page_id),
            "group_id": str(component.group_id) if component.group_id else None,
            "name": component.name, "description": component.description,
            "type": component.type,
            "resource_id": str(component.subject_id) if component.subject_id else None,
            "status": shown.status, "status_since": isoformat(shown.since) if shown.since
            else None, "order": component.position}


def group_out(group) -> dict:
    return {"id": str(group.id), "name": group.name, "order": group.position}


def unified_out(page, groups: list, components: list, shown: dict) -> dict:
    """The page with its theme, its groups (each with its components) and the components
    outside any group."""
    inside: dict = {}
    for component in components:
        inside.setdefault(component.group_id, []).append(
            component_out(component, shown[str(component.id)]))
    return {**page_out(page), "theme": theme_out(page),
            "components": inside.get(None, []),
            "groups": [{**group_out(g), "components": inside.get(g.id, [])} for g in groups]}
