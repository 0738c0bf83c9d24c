"""The `monitors.look_at_expiry` actor, run by a real worker: a look whose facts call for a
reminder sends it to the team's channels, once however often the job is delivered."""
from __future__ import annotations

import datetime as dt

from models import clock
from models.channels import NotificationChannel
from models.monitors import facts
from models.monitors.tables import ExpiryReminder
from tests.conftest import drain
from tests.factories.monitors import make_monitor
from tests.factories.organisations import make_cast, make_service


def test_the_same_look_delivered_twice_sends_one_reminder(settings, broker, webhook_sink):
    cast = make_cast(settings)
    now = clock.now()
    # nothing listens on port 9: the look learns nothing new, the stored facts stand
    monitor = make_monitor(make_service(cast.team), type="ssl", host="127.0.0.1", port=9)
    ExpiryReminder.create(monitor=monitor, kind="ssl", days_before=[14], created_at=now,
                          updated_at=now)
    facts.save(monitor, "ssl", {"valid": True,
                                "valid_until": (now + dt.timedelta(days=3)).isoformat()}, now=now)
    NotificationChannel.create(team=cast.team, type="webhook", value=f"{webhook_sink.url}/expiry",
                               priority=1, verified_at=now, created_at=now, updated_at=now)
    actor = broker.get_actor("monitors.look_at_expiry")
    actor.send(str(monitor.id), "ssl")
    actor.send(str(monitor.id), "ssl")
    drain(broker)
    received = webhook_sink.wait_for("/expiry")
    assert len(received) == 1 and received[0].json()["type"] == "expiry_reminder"
