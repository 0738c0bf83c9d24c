"""Expiry reminders go to the team's deliverable channels like any notice, each channel once
per threshold and expiry date; a team with no channel to send to gets them by mail."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from models import clock
from models.channels import NotificationChannel
from models.monitors import facts
from models.monitors.tables import ExpiryReminder, Monitor
from models.outbox import Delivery
from tests.conftest import drain
from tests.factories.monitors import make_monitor
from tests.factories.organisations import make_cast, make_service

EXPIRES = "expires in"   # in the subject of every reminder


@dataclasses.dataclass
class Watched:
    cast: object
    monitor: Monitor
    reminder: ExpiryReminder


@pytest.fixture
def watched(settings):
    """An ssl monitor of Alice's team (Bob a member) with a reminder at 30, 7 and 1 days."""
    cast = make_cast(settings)
    monitor = make_monitor(make_service(cast.team), type="ssl", host="127.0.0.1", port=9)
    now = clock.now()
    reminder = ExpiryReminder.create(monitor=monitor, kind="ssl", days_before=[30, 7, 1],
                                     created_at=now, updated_at=now)
    return Watched(cast, monitor, reminder)


def expiring_in(monitor, days: float) -> dt.datetime:
    expires_at = (clock.now() + dt.timedelta(days=days)).replace(microsecond=0)
    facts.save(monitor, "ssl", {"valid": True, "valid_until": expires_at.isoformat()},
               now=clock.now())
    return expires_at


def channel(owner, type, value, priority, *, verified=True, enabled=True):
    now = clock.now()
    return NotificationChannel.create(**owner, type=type, value=value, priority=priority,
                                      enabled=enabled, verified_at=now if verified else None,
                                      created_at=now, updated_at=now)


def reminders_to(sink, address):
    return [m for m in sink.to(address) if EXPIRES in m.subject]


def test_a_reminder_goes_to_each_deliverable_team_channel_once(watched, broker, smtp_sink,
                                                               webhook_sink):
    team = {"team": watched.cast.team}
    hook = channel(team, "webhook", f"{webhook_sink.url}/team-hook", 1)
    mailbox = channel(team, "email", "ops@example.com", 2)
    channel(team, "email", "unverified@example.com", 3, verified=False)
    channel(team, "email", "disabled@example.com", 4, enabled=False)
    channel({"customer": watched.cast.alice}, "email", "alice-personal@example.com", 1)
    expires_at = expiring_in(watched.monitor, 5)

    assert facts.send_due_reminders(watched.monitor.id, "ssl", now=clock.now()) == 2
    assert facts.send_due_reminders(watched.monitor.id, "ssl", now=clock.now()) == 0
    drain(broker)

    posted = webhook_sink.wait_for("/team-hook")
    assert len(posted) == 1
    payload = posted[0].json()
    assert (payload["type"], payload["kind"], payload["days_before"], payload["monitor_id"]) == (
        "expiry_reminder", "ssl", 7, str(watched.monitor.id))
    assert len(reminders_to(smtp_sink, "ops@example.com")) == 1
    for address in ("unverified@example.com", "disabled@example.com",
                    "alice-personal@example.com", watched.cast.alice.email,
                    watched.cast.bob.email):
        assert reminders_to(smtp_sink, address) == [], address
    keys = {d.key for d in Delivery.select().where(Delivery.kind == "expiry_reminder")}
    prefix = f"reminder:{watched.reminder.id}:7:{expires_at.date().isoformat()}"
    assert keys == {f"{prefix}:{hook.id}", f"{prefix}:{mailbox.id}"}


def test_the_next_threshold_reminds_again_and_the_same_one_never(watched, broker, smtp_sink):
    channel({"team": watched.cast.team}, "email", "ops@example.com", 1)
    expires_at = expiring_in(watched.monitor, 20)
    remind = lambda now: facts.send_due_reminders(watched.monitor.id, "ssl", now=now)  # noqa: E731
    assert remind(clock.now()) == 1                                # 30 days before
    assert remind(clock.now() + dt.timedelta(days=1)) == 0          # still 30, a day later
    assert remind(expires_at - dt.timedelta(hours=12)) == 1         # 1 day before
    assert remind(expires_at - dt.timedelta(hours=6)) == 0
    drain(broker)
    subjects = sorted(m.subject for m in reminders_to(smtp_sink, "ops@example.com"))
    assert len(subjects) == 2 and "in 0 days" in subjects[0]     # the worker sends in any order


def test_a_renewal_reminds_again_of_the_new_expiry(watched, broker, smtp_sink):
    channel({"team": watched.cast.team}, "email", "ops@example.com", 1)
    expiring_in(watched.monitor, 5)
    assert facts.send_due_reminders(watched.monitor.id, "ssl", now=clock.now()) == 1
    expiring_in(watched.monitor, 6.5)                    # renewed, still within 7 days
    assert facts.send_due_reminders(watched.monitor.id, "ssl", now=clock.now()) == 1
    drain(broker)
    assert len(reminders_to(smtp_sink, "ops@example.com")) == 2


def test_a_team_without_a_deliverable_channel_gets_the_reminder_by_mail(watched, broker,
                                                                         smtp_sink):
    channel({"team": watched.cast.team}, "email", "unverified@example.com", 1, verified=False)
    expiring_in(watched.monitor, 3)
    assert facts.send_due_reminders(watched.monitor.id, "ssl", now=clock.now()) == 2
    assert facts.send_due_reminders(watched.monitor.id, "ssl", now=clock.now()) == 0
    drain(broker)
    for member in (watched.cast.alice, watched.cast.bob):
        assert len(reminders_to(smtp_sink, member.email)) == 1, member.email
    assert reminders_to(smtp_sink, watched.cast.charlie.email) == []     # another organisation
    assert reminders_to(smtp_sink, "unverified@example.com") == []


def test_nothing_is_sent_before_the_first_threshold_or_without_facts(watched):
    channel({"team": watched.cast.team}, "email", "ops@example.com", 1)
    assert facts.send_due_reminders(watched.monitor.id, "ssl", now=clock.now()) == 0
    expiring_in(watched.monitor, 45)
    assert facts.send_due_reminders(watched.monitor.id, "ssl", now=clock.now()) == 0
    assert Delivery.select().where(Delivery.kind == "expiry_reminder").count() == 0
