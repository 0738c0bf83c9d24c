"""The outbox: SMTP delivery, retries, idempotency, the log fallback and the stalled sweep."""
from __future__ import annotations

import datetime as dt
import logging

import pytest

from models import clock, mail
from models.db import database
from models.settings import Settings
from tests.conftest import SECRET, drain
from tests.jobs import held_jobs
from tests.polling import wait_until
from tests.smtp_sink import SmtpSink


def queued(to="someone@example.com", subject="Hello", body="Body text", now=None):
    """An outbox row whose `mail.send` job is held back, so the test delivers it by hand."""
    with held_jobs() as record:
        row = mail.queue_mail(to, subject, body, now=now or clock.now())
    assert record == [("mail.send", (str(row.id),))]
    return row


def test_a_message_is_delivered_over_smtp_with_its_row_id_as_message_id(settings, smtp_sink):
    row = queued()
    assert mail.deliver(str(row.id), settings=settings, now=clock.now()) == "sent"
    received = smtp_sink.wait_for("someone@example.com")[0]
    assert received.subject == "Hello" and received.body.strip() == "Body text"
    assert received.message["Message-ID"] == f"<{row.id}@pinghome>"
    stored = mail.MailOutbox.get_by_id(row.id)
    assert (stored.status, stored.attempts) == ("sent", 1)


def test_delivering_the_same_message_twice_sends_it_once(settings, smtp_sink):
    row = queued(to="twice@example.com")
    mail.deliver(str(row.id), settings=settings, now=clock.now())
    assert mail.deliver(str(row.id), settings=settings, now=clock.now()) == "skipped"
    assert len(smtp_sink.wait_for("twice@example.com")) == 1


def test_a_refused_message_stays_pending_and_is_sent_on_the_next_attempt(settings, smtp_sink):
    row = queued(to="retry@example.com")
    smtp_sink.refuse_next = 1
    with pytest.raises(mail.MailNotSent):
        mail.deliver(str(row.id), settings=settings, now=clock.now())
    stored = mail.MailOutbox.get_by_id(row.id)
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert "451" in stored.last_error
    assert mail.deliver(str(row.id), settings=settings, now=clock.now()) == "sent"


def test_a_message_fails_for_good_after_the_last_attempt(settings, smtp_sink):
    row = queued(to="never@example.com")
    mail.MailOutbox.update(attempts=settings.mail_max_attempts - 1).execute()
    smtp_sink.refuse_next = 1
    assert mail.deliver(str(row.id), settings=settings, now=clock.now()) == "failed"
    assert mail.MailOutbox.get_by_id(row.id).status == "failed"


def test_an_unreachable_server_is_a_retryable_failure(settings):
    row = queued()
    closed = settings.replace(smtp_url="smtp://127.0.0.1:9")
    with pytest.raises(mail.MailNotSent):
        mail.deliver(str(row.id), settings=closed, now=clock.now())


def test_without_smtp_the_message_is_written_to_the_log_and_kept(settings, caplog):
    row = queued(body="Your code is 123456")
    with caplog.at_level(logging.INFO, logger="models.mail"):
        status = mail.deliver(str(row.id), settings=settings.replace(smtp_url=None),
                              now=clock.now())
    assert status == "logged"
    assert "Your code is 123456" in caplog.text
    assert mail.MailOutbox.get_by_id(row.id).status == "logged"


def test_smtp_credentials_from_the_url_are_used():
    sink = SmtpSink(username="mailer", password="s3cret").start()
    try:
        row = queued(to="auth@example.com")
        settings = Settings(smtp_url=sink.url, secret_key=SECRET)
        assert mail.deliver(str(row.id), settings=settings, now=clock.now()) == "sent"
        assert sink.wait_for("auth@example.com")
        wrong = Settings(smtp_url=sink.url.replace("s3cret", "wrong"), secret_key=SECRET)
        with pytest.raises(mail.MailNotSent):
            mail.deliver(str(queued().id), settings=wrong, now=clock.now())
    finally:
        sink.stop()


def test_a_message_queued_in_a_rolled_back_transaction_is_never_sent(broker, smtp_sink):
    class Abort(Exception):
        """Raised to roll the transaction back."""

    with pytest.raises(Abort), held_jobs() as record:
        with database.atomic():
            mail.queue_mail("rolledback@example.com", "Never", "Body", now=clock.now())
            raise Abort
    assert record == []
    assert mail.MailOutbox.select().count() == 0
    drain(broker)
    assert smtp_sink.to("rolledback@example.com") == []


def test_the_sweep_resends_a_message_whose_job_was_lost(settings, broker, smtp_sink):
    row = queued(to="lost@example.com", now=clock.now() - dt.timedelta(hours=1))
    assert smtp_sink.to("lost@example.com") == []
    assert mail.requeue_stalled(now=clock.now()) == 1
    assert smtp_sink.wait_for("lost@example.com")
    wait_until(lambda: mail.MailOutbox.get_by_id(row.id).status == "sent")


def test_the_sweep_leaves_recent_and_finished_messages_alone(settings):
    queued()
    done = queued(now=clock.now() - dt.timedelta(hours=1))
    mail.MailOutbox.update(status="sent").where(mail.MailOutbox.id == done.id).execute()
    assert mail.requeue_stalled(now=clock.now()) == 0
