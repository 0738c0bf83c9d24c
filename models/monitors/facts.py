"""Certificate and domain facts of monitors, and the expiry reminders they trigger.

Facts come from ssl and tld checks, and once a day from a look at the certificate or domain of
any monitor that has a reminder. A threshold sends one mail to the service's team, once per
threshold and expiry date (a unique row claims it in the mail's transaction).
"""
from __future__ import annotations

import datetime as dt

from models import outbox
from models.accounts import Customer
from models.db import database
from models.monitors.tables import ExpiryReminder, Monitor, MonitorFacts, ReminderSent
from models.organisations import Membership
from models.services import Service

WHAT = {"ssl": "the TLS certificate of", "tld": "the domain registration of"}


def store_facts(pairs, *, now) -> None:
    """Keeps the latest facts of ssl and tld checks: [(monitor, probe result)]."""
    for monitor, probe in pairs:
        if probe.details:
            save(monitor, monitor.type, probe.details, now=now)


def save(monitor, kind: str, data: dict, *, now) -> None:
    (MonitorFacts.insert(monitor=monitor.id, kind=kind, data=data, checked_at=now)
     .on_conflict(conflict_target=[MonitorFacts.monitor, MonitorFacts.kind],
                  update={MonitorFacts.data: data, MonitorFacts.checked_at: now})
     .execute())


def needing_a_look(*, now, older_than=dt.timedelta(hours=20)) -> list[tuple[str, str]]:
    """(monitor id, kind) of every reminder whose facts are missing or older than a day."""
    fresh = {(str(m), k) for m, k in MonitorFacts.select(MonitorFacts.monitor, MonitorFacts.kind)
             .where(MonitorFacts.checked_at > now - older_than).tuples()}
    wanted = (ExpiryReminder.select(ExpiryReminder.monitor, ExpiryReminder.kind)
              .join(Monitor).where(Monitor.enabled == True).tuples())  # noqa: E712
    return [(str(m), k) for m, k in wanted if (str(m), k) not in fresh]


def send_due_reminders(monitor_id, kind: str, *, now) -> int:
    """Mails the owners of the monitor's team for each threshold its expiry has entered;
    never twice for one threshold and expiry date. Answers how many were sent."""
    monitor = Monitor.get_or_none(Monitor.id == monitor_id)
    reminder = ExpiryReminder.get_or_none(ExpiryReminder.monitor == monitor_id,
                                          ExpiryReminder.kind == kind)
    facts = MonitorFacts.get_or_none(MonitorFacts.monitor == monitor_id, MonitorFacts.kind == kind)
    expires_at = _expiry(facts)
    if monitor is None or reminder is None or expires_at is None:
        return 0
    days_left = (expires_at - now).total_seconds() / 86400
    sent = 0
    for threshold in sorted(reminder.days_before):
        if days_left <= threshold:
            sent += _send_once(monitor, kind, threshold, expires_at, days_left, now=now)
            break   # the smallest threshold entered speaks for the larger ones
    return sent


def _send_once(monitor, kind, threshold, expires_at, days_left, *, now) -> int:
    with database.atomic():
        claimed = (ReminderSent.insert(monitor=monitor.id, kind=kind, days_before=threshold,
                                       expires_on=expires_at.date(), sent_at=now)
                   .on_conflict_ignore().execute())
        if not claimed:
            return 0
        subject = (f"{monitor.name}: {WHAT[kind]} {monitor.host} expires in "
                   f"{max(int(days_left), 0)} days")
        body = (f"{WHAT[kind].capitalize()} {monitor.host}, watched by the monitor "
                f"'{monitor.name}', expires on {expires_at.date().isoformat()} "
                f"({max(int(days_left), 0)} days from now). Renew it in time.\n")
        key = f"reminder:{monitor.id}:{kind}:{threshold}:{expires_at.date()}"
        for customer in _team_members(monitor):
            outbox.queue(key=f"{key}:customer:{customer.id}", type="email",
                         address=customer.email, kind="expiry_reminder", subject=subject,
                         body=body, now=now)
    return 1


def _team_members(monitor) -> list[Customer]:
    return list(Customer.select(Customer.id, Customer.email).join(
        Membership, on=(Membership.customer == Customer.id)).join(
        Service, on=(Service.team == Membership.team)).where(Service.id == monitor.service_id)
        .distinct())


def _expiry(facts) -> dt.datetime | None:
    if facts is None:
        return None
    raw = facts.data.get("valid_until") or facts.data.get("expires_at")
    if not raw:
        return None
    try:
        return dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
