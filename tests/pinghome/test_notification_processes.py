"""Notifications as real processes on Postgres and Redis: the region-less worker SIGKILLed in
the middle of a fan-out of 200 notices loses none, and what it had sent already comes again
only with the same delivery key."""
from __future__ import annotations

from collections import Counter

import pytest

from models import clock
from models.accounts import Customer
from models.channels import NotificationChannel
from models.incidents.tables import Incident, IncidentEvent, IncidentStep
from models.organisations import Organisation, Team
from models.outbox import Delivery
from tests.http_sink import HttpSink
from tests.polling import wait_until
from tests.processes import own_stack, start

pytestmark = pytest.mark.own_servers
TABLES = [Organisation, Team, Customer, NotificationChannel, Delivery, Incident, IncidentEvent,
          IncidentStep]


@pytest.fixture
def stack(tmp_path):
    with own_stack(tmp_path, TABLES, env={
            "PINGHOME_SECRET_KEY": "notification-test-secret-key-0123456789",
            "PINGHOME_ALLOW_PRIVATE_TARGETS": "true"}) as found:
        yield found


def fan_out_to(url: str, channels: int) -> Incident:
    """An incident whose team has `channels` webhook channels, and its first step, due now
    (the scheduler hands it to a worker)."""
    now = clock.now()
    organisation = Organisation.create(name="Ops", plan="self-hosted", created_at=now)
    team = Team.create(organisation=organisation, name="Ops", created_at=now)
    for n in range(channels):
        NotificationChannel.create(team=team, type="webhook", value=f"{url}/hook/{n}",
                                   priority=n + 1, verified_at=now, created_at=now,
                                   updated_at=now)
    incident = Incident.create(organisation=organisation, team=team, source="manual",
                               name="Everything is down", urgency="critical",
                               assignees=[{"type": "team", "id": str(team.id)}], actions=[],
                               created_at=now, updated_at=now)
    IncidentStep.create(incident=incident, key=f"team:{team.id}", due_at=now,
                        data={"reason": "opened", "assignee": {"type": "team",
                                                               "id": str(team.id)}})
    return incident


@pytest.mark.timeout(240)
def test_a_worker_killed_in_the_middle_of_a_fan_out_loses_no_notification(stack):
    receiver = HttpSink().start()
    receiver.delays["/hook/"] = 0.1        # the fan-out takes a while: the kill lands in it
    try:
        fan_out_to(receiver.url, 200)
        start(stack, "scheduler")
        victim = start(stack, "worker")
        wait_until(lambda: len(receiver.received("/hook/")) >= 40, timeout=60)
        victim.kill()
        start(stack, "worker")
        wait_until(lambda: Delivery.select().where(Delivery.status == "sent").count() == 200,
                   timeout=150, message="every notice delivered after the kill")
        received = receiver.received("/hook/")
        per_channel = Counter(r.route for r in received)
        assert set(per_channel) == {f"/hook/{n}" for n in range(200)}      # none missing
        keys = {}
        for request in received:     # a notice sent again carries the key it had
            keys.setdefault(request.route, set()).add(request.headers["x-pinghome-delivery"])
        assert all(len(found) == 1 for found in keys.values())
        assert len({k for found in keys.values() for k in found}) == 200
    finally:
        receiver.released.set()
        receiver.stop()
