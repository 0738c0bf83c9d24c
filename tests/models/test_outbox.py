"""The outbox: one row per message, keyed; delivery through a real transport (mail to the SMTP
sink), retries, idempotency and the stalled sweep."""
from __future__ import annotations

import datetime as dt
import logging
import uuid

import pytest

from models import clock, outbox
from models.db import database
from models.outbox import Delivery
from models.settings import Settings
from tests.conftest import SECRET, drain
from tests.jobs import held_jobs
from tests.polling import wait_until
from tests.smtp_sink import SmtpSink
from workers import notifiers


def queued(to="someone@example.com", subject="Hello", body="Body text", now=None, key=None):
    """A mail in the outbox whose `notifications.deliver` job is held back, so the test
    delivers it by hand."""
    with held_jobs() as record:
        row = outbox.queue(key=key or f"test:{uuid.uuid4()}", type="email", address=to,
                           kind="test", subject=subject, body=body, now=now or clock.now())
    assert record == [("notifications.deliver", (str(row.id),))]
    return row


def deliver(row, settings):
    return outbox.deliver(str(row.id), transport=lambda m: notifiers.send(m, settings=settings),
                          settings=settings, now=clock.now())


def test_a_message_is_delivered_over_smtp_with_its_row_id_as_message_id(settings, smtp_sink):
    row = queued()
    assert deliver(row, settings) == "sent"
    received = smtp_sink.wait_for("someone@example.com")[0]
    assert received.subject == "Hello" and received.body.strip() == "Body text"
    assert received.message["Message-ID"] == f"<{row.id}@pinghome>"
    stored = Delivery.get_by_id(row.id)
    assert (stored.status, stored.attempts, stored.channel_id) == ("sent", 1, None)


def test_queueing_a_key_twice_queues_one_row_and_sends_once(settings, smtp_sink):
    first = queued(to="keyed@example.com", key="code:one")
    with held_jobs() as record:
        again = outbox.queue(key="code:one", type="email", address="keyed@example.com",
                             kind="test", subject="Another", body="Other body", now=clock.now())
    assert record == []                                       # no second job ...
    assert again.id == first.id and again.subject == "Hello"  # ... the first row answered
    assert Delivery.select().where(Delivery.key == "code:one").count() == 1
    assert deliver(first, settings) == "sent"
    assert deliver(again, settings) == "skipped"
    assert [m.subject for m in smtp_sink.wait_for("keyed@example.com")] == ["Hello"]


def test_a_key_queued_twice_by_the_worker_sends_one_message(broker, smtp_sink):
    for _ in range(2):
        with database.atomic():
            outbox.queue(key="invitation:twice:0", type="email", address="worker@example.com",
                         kind="invitation", subject="Join", body="Body", now=clock.now())
    drain(broker)
    assert len(smtp_sink.wait_for("worker@example.com")) == 1
    assert Delivery.get(Delivery.key == "invitation:twice:0").status == "sent"


def test_delivering_the_same_message_twice_sends_it_once(settings, smtp_sink):
    row = queued(to="twice@example.com")
    deliver(row, settings)
    assert deliver(row, settings) == "skipped"
    assert len(smtp_sink.wait_for("twice@example.com")) == 1


def test_a_refused_message_stays_pending_and_is_sent_on_the_next_attempt(settings, smtp_sink):
    row = queued(to="retry@example.com")
    smtp_sink.refuse_next = 1
    with pytest.raises(outbox.NotSent):
        deliver(row, settings)
    stored = Delivery.get_by_id(row.id)
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert "451" in stored.last_error
    assert deliver(row, settings) == "sent"


def test_a_message_fails_for_good_after_the_last_attempt(settings, smtp_sink):
    row = queued(to="never@example.com")
    Delivery.update(attempts=settings.mail_max_attempts - 1).execute()
    smtp_sink.refuse_next = 1
    assert deliver(row, settings) == "failed"
    assert Delivery.get_by_id(row.id).status == "failed"


def test_an_unreachable_server_is_a_retryable_failure(settings):
    row = queued()
    with pytest.raises(outbox.NotSent):
        deliver(row, settings.replace(smtp_url="smtp://127.0.0.1:9"))
    assert Delivery.get_by_id(row.id).status == "pending"


def test_without_smtp_the_message_is_written_to_the_log_and_kept(settings, caplog):
    row = queued(body="Your code is 123456")
    with caplog.at_level(logging.INFO, logger="workers.notifiers.email"):
        status = deliver(row, settings.replace(smtp_url=None))
    assert status == "logged"
    assert "Your code is 123456" in caplog.text
    assert Delivery.get_by_id(row.id).status == "logged"


def test_smtp_credentials_from_the_url_are_used():
    sink = SmtpSink(username="mailer", password="s3cret").start()
    try:
        row = queued(to="auth@example.com")
        settings = Settings(smtp_url=sink.url, secret_key=SECRET)
        assert deliver(row, settings) == "sent"
        assert sink.wait_for("auth@example.com")
        wrong = Settings(smtp_url=sink.url.replace("s3cret", "wrong"), secret_key=SECRET)
        with pytest.raises(outbox.NotSent):
            deliver(queued(), wrong)
    finally:
        sink.stop()


def test_a_message_queued_in_a_rolled_back_transaction_is_never_sent(broker, smtp_sink):
    class Abort(Exception):
        """Raised to roll the transaction back."""

    with pytest.raises(Abort), held_jobs() as record:
        with database.atomic():
            outbox.queue(key="code:rolled-back", type="email", address="rolledback@example.com",
                         kind="code", subject="Never", body="Body", now=clock.now())
            raise Abort
    assert record == []
    assert Delivery.select().count() == 0
    drain(broker)
    assert smtp_sink.to("rolledback@example.com") == []


def test_the_sweep_resends_a_message_whose_job_was_lost(settings, broker, smtp_sink):
    row = queued(to="lost@example.com", now=clock.now() - dt.timedelta(hours=1))
    assert smtp_sink.to("lost@example.com") == []
    assert outbox.requeue_stalled(now=clock.now()) == 1
    assert smtp_sink.wait_for("lost@example.com")
    wait_until(lambda: Delivery.get_by_id(row.id).status == "sent")


def test_the_sweep_leaves_recent_and_finished_messages_alone(settings):
    queued()
    done = queued(now=clock.now() - dt.timedelta(hours=1))
    Delivery.update(status="sent").where(Delivery.id == done.id).execute()
    assert outbox.requeue_stalled(now=clock.now()) == 0


def grouped_rows(settings, count: int):
    """`count` incident notices held back for one team webhook channel."""
    from models.channels import NotificationChannel
    from tests.factories.accounts import make_customer
    from tests.factories.organisations import first_team
    now = clock.now()
    channel = NotificationChannel.create(team=first_team(make_customer(settings)),
                                         type="webhook", value="https://hooks.example/g",
                                         priority=1, verified_at=now, created_at=now,
                                         updated_at=now)
    with held_jobs():
        return [outbox.queue(key=f"incident:{uuid.uuid4()}:{n}", channel=channel, kind="incident",
                             subject=f"Notice {n}", body=f"Body {n}", payload={"n": n},
                             now=now) for n in range(count)]


def test_notices_to_one_channel_go_out_as_one_message_then_wait_their_window(settings):
    sent = []
    rows = grouped_rows(settings, 3)
    now = clock.now()
    assert outbox.deliver(str(rows[0].id), transport=lambda m: sent.append(m) or "sent",
                          settings=settings, now=now) == "sent"
    [message] = sent
    assert message.payload["count"] == 3
    assert sorted(p["n"] for p in message.payload["messages"]) == [0, 1, 2]
    with held_jobs() as later:
        late = outbox.queue(key="incident:test:late", channel=rows[0].channel, kind="incident",
                            subject="Late", body="Late", now=now)
        assert outbox.deliver(str(late.id), transport=lambda m: sent.append(m) or "sent",
                              settings=settings, now=now + dt.timedelta(seconds=3)) == "later"
    assert later[-1] == ("notifications.deliver", (str(late.id),))
    assert len(sent) == 1


def test_what_an_attempt_claims_beside_a_message_held_elsewhere_is_sent_not_stranded(settings):
    sent = []
    held, *others = grouped_rows(settings, 3)
    now = clock.now()
    Delivery.update(claimed_until=now + dt.timedelta(seconds=60)).where(
        Delivery.id == held.id).execute()                 # an attempt running elsewhere
    outbox.deliver(str(held.id), transport=lambda m: sent.append(m) or "sent",
                   settings=settings, now=now)
    assert [Delivery.get_by_id(r.id).status for r in others] == ["sent", "sent"]
    assert Delivery.get_by_id(held.id).status == "pending" and len(sent) == 1


def test_messages_queued_together_ask_for_one_job_per_grouped_channel_and_keep_their_keys(
        settings):
    [first] = grouped_rows(settings, 1)
    messages = [outbox.Queued(key=f"incident:batch:{n}", kind="incident", subject=f"N {n}",
                              body="B", channel=first.channel) for n in range(5)]
    messages.append(outbox.Queued(key="mail:batch", kind="test", subject="S", body="B",
                                  type="email", address="someone@example.com"))
    Delivery.update(status="sent").where(Delivery.id == first.id).execute()
    with held_jobs() as handed:
        ids = outbox.queue_many(messages + messages[:2], now=clock.now())   # keys twice
    assert Delivery.select().where(Delivery.key.in_([m.key for m in messages])).count() == 6
    assert ids == {m.key: Delivery.get(Delivery.key == m.key).id for m in messages}
    assert handed == [("notifications.deliver", (str(ids["incident:batch:0"]),)),
                      ("notifications.deliver", (str(ids["mail:batch"]),))]
    with held_jobs() as again:                      # one waits already: its job takes it along
        outbox.queue_many([outbox.Queued(key="incident:batch:late", kind="incident",
                                         subject="L", body="B", channel=first.channel)],
                          now=clock.now())
    assert again == []
