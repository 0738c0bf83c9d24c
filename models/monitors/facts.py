"""Certificate and domain facts of monitors, and the expiry reminders they trigger.

Facts come from ssl and tld checks, and once a day from a look at the certificate or domain of
any monitor that has a reminder. A threshold reminds the service's team once per threshold and
expiry date (a unique row claims it in the transaction that queues the messages), over the
team's channels like any notice, or by mail to its members when it has no channel to send to.
"""
from __future__ import annotations

import datetime as dt

from models import channels, outbox
from models.db import database
from models.monitors.tables import ExpiryReminder, Monitor, MonitorFacts, ReminderSent
from models.organisations import Team
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
    """Reminds the monitor's team of the threshold its expiry has entered: a message to each
    of the team's deliverable channels (verified and enabled), or, when it has none, a mail to
    each member, so that a reminder is never lost silently. Once per threshold and expiry
    date, and each message keyed by them and its destination: safe to repeat. Answers how
    many messages it queued."""
    monitor = Monitor.get_or_none(Monitor.id == monitor_id)
    reminder = ExpiryReminder.get_or_none(ExpiryReminder.monitor == monitor_id,
                                          ExpiryReminder.kind == kind)
    facts = MonitorFacts.get_or_none(MonitorFacts.monitor == monitor_id, MonitorFacts.kind == kind)
    expires_at = _expiry(facts)
    if monitor is None or reminder is None or expires_at is None:
        return 0
    days_left = (expires_at - now).total_seconds() / 86400
    for threshold in sorted(reminder.days_before):
        if days_left <= threshold:   # the smallest threshold entered speaks for the larger ones
            return _remind_once(monitor, reminder, threshold, expires_at, days_left, now=now)
    return 0


def _remind_once(monitor, reminder, threshold, expires_at, days_left, *, now) -> int:
    """The claim and the messages commit together, so a second run finds the claim taken and
    queues nothing."""
    with database.atomic():
        claimed = (ReminderSent.insert(monitor=monitor.id, kind=reminder.kind,
                                       days_before=threshold, expires_on=expires_at.date(),
                                       sent_at=now)
                   .on_conflict_ignore().execute())
        if not claimed:
            return 0
        days, what = max(int(days_left), 0), WHAT[reminder.kind]
        subject = f"{monitor.name}: {what} {monitor.host} expires in {days} days"
        body = (f"{what.capitalize()} {monitor.host}, watched by the monitor '{monitor.name}', "
                f"expires on {expires_at.date().isoformat()} ({days} days from now). "
                f"Renew it in time.\n")
        payload = {"type": "expiry_reminder", "monitor_id": str(monitor.id),
                   "kind": reminder.kind, "host": monitor.host,
                   "expires_at": expires_at.isoformat(), "days_before": threshold}
        team = Team.select().join(Service).where(Service.id == monitor.service_id).get()
        return _tell_team(team, key=f"reminder:{reminder.id}:{threshold}:{expires_at.date()}",
                          subject=subject, body=body, payload=payload, now=now)


def _tell_team(team, *, key: str, subject: str, body: str, payload: dict, now) -> int:
    """Queues the notice to each deliverable team channel, else mails each member; answers
    how many were queued."""
    messages = channels.messages_to_team(team.id, key=key, kind="expiry_reminder",
                                         subject=subject, body=body, payload=payload)
    outbox.queue_many(messages, now=now)
    return len(messages)


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
