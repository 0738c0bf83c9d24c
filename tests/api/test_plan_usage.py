"""Plan limits counted in one place (`models.usage`): every create is refused past its limit
naming it, and a downgrade deletes nothing: what is over keeps running and the profile and
the plan's limits say what is over."""
from __future__ import annotations

from models import clock, usage
from models.organisations import Organisation
from tests.factories.accounts import bearer
from tests.factories.monitors import make_monitor
from tests.factories.organisations import make_cast, make_service
from tests.factories.statuspages import make_page


def test_a_downgrade_keeps_everything_refuses_more_and_says_what_is_over(client, settings):
    cast = make_cast(settings)
    pages = [make_page(cast.alice) for _ in range(3)]
    service = make_service(cast.team)
    make_monitor(service, interval_seconds=30)
    Organisation.update(plan="free").where(Organisation.id == cast.team.organisation_id).execute()

    profile = client.simulate_get(f"/v1/customer/{cast.alice.id}",
                                  headers=bearer(cast.alice_token)).json
    over = {item["key"]: item for item in profile["over_limits"]}
    assert over["status_pages"] == {"key": "status_pages", "title": "Status pages",
                                    "limit": 1, "used": 3, "unit": "count"}
    assert (over["min_interval_seconds"]["used"], over["min_interval_seconds"]["limit"]) == (30, 60)
    limits = client.simulate_get("/v1/plan/free/v1/limits", headers=bearer(cast.bob_token)).json
    assert {item["key"] for item in limits["over"]} == set(over)

    refused = client.simulate_post("/v1/statuspage", headers=bearer(cast.alice_token), json={
        "name": "Fourth", "subdomain": f"fourth-{cast.alice.id.hex[:8]}"})
    assert refused.status_code == 403, refused.json
    assert refused.json["error"]["code"] == "plan_limit_reached"
    assert "Status pages" in refused.json["error"]["message"]
    assert "status_pages" in refused.json["error"]["fields"]
    for page in pages:                                   # nothing was deleted or hidden
        assert client.simulate_get(f"/status/{page.subdomain}/summary.json").status_code == 200


def test_each_limit_is_counted_in_its_scope(settings):
    cast = make_cast(settings)
    organisation = Organisation.get_by_id(cast.team.organisation_id)
    page = make_page(cast.alice, subscription_enabled=True)
    other = make_page(cast.alice)
    from models.statuspages.tables import Subscriber
    for number in range(3):
        Subscriber.create(page=page.id, channel_type="email",
                          channel_value=f"s{number}@example.org", created_at=clock.now())
    assert usage.used(organisation, "subscribers", scope=page) == 3
    assert usage.used(organisation, "subscribers", scope=other) == 0
    assert usage.used(organisation, "subscribers") == 3           # the most of any page
    assert usage.used(organisation, "status_pages") == 2
    assert usage.used(organisation, "teams") == 1
    assert usage.used(organisation, "members", now=clock.now()) == 2
    assert usage.over_limits(organisation, now=clock.now()) == []    # self-hosted
