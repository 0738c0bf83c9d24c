"""The on-call actors, run by a real worker: a shift notice and a gap warning each reach their
channel once, however often the job is delivered."""
from __future__ import annotations

import datetime as dt

from models import clock
from models.channels import NotificationChannel
from models.oncall.tables import TeamScheduleEntry
from tests.conftest import drain
from tests.factories.organisations import make_cast


def _channel(webhook_sink, path: str, **owner) -> None:
    now = clock.now()
    NotificationChannel.create(type="webhook", value=f"{webhook_sink.url}{path}", priority=1,
                               verified_at=now, created_at=now, updated_at=now, **owner)


def _entry(team, customer, starts_in: dt.timedelta) -> None:
    now = clock.now().replace(microsecond=0)
    start, end = (now + starts_in).time(), (now + starts_in + dt.timedelta(hours=2)).time()
    TeamScheduleEntry.create(team=team, customer=customer, start_date=now - dt.timedelta(days=1),
                             end_date=now + dt.timedelta(days=30), start_time=start.isoformat(),
                             end_time=end.isoformat(), created_at=now, updated_at=now)


def test_a_shift_notice_delivered_twice_reaches_its_person_once(settings, broker,
                                                                webhook_sink):
    cast = make_cast(settings)
    _channel(webhook_sink, "/bob", customer=cast.bob)
    _entry(cast.team, cast.bob, dt.timedelta(minutes=5))
    actor = broker.get_actor("oncall.notify_upcoming")
    actor.send()
    actor.send()
    drain(broker)
    received = webhook_sink.wait_for("/bob")
    assert len(received) == 1 and received[0].json()["type"] == "oncall.notice"


def test_a_gap_warning_delivered_twice_reaches_the_team_once(settings, broker, webhook_sink):
    cast = make_cast(settings)
    _channel(webhook_sink, "/team", team=cast.team)
    _entry(cast.team, cast.bob, dt.timedelta(hours=1))
    actor = broker.get_actor("oncall.warn_gaps")
    actor.send()
    actor.send()
    drain(broker)
    received = webhook_sink.wait_for("/team")
    assert len(received) == 1 and "Nobody on call" in received[0].json()["subject"]
