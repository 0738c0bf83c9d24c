"""The `mail.send` actor, run by a real worker on the session's broker."""
from __future__ import annotations

from models import clock, mail
from tests.conftest import drain
from tests.polling import wait_until


def test_a_queued_message_is_delivered_by_the_worker(broker, smtp_sink):
    mail.queue_mail("actor@example.com", "Subject", "Body", now=clock.now())
    assert smtp_sink.wait_for("actor@example.com")[0].subject == "Subject"


def test_the_same_message_delivered_twice_sends_one_mail(broker, smtp_sink):
    row = mail.queue_mail("dup@example.com", "Once", "Body", now=clock.now())
    broker.get_actor("mail.send").send(str(row.id))
    broker.get_actor("mail.send").send(str(row.id))
    drain(broker)
    assert len(smtp_sink.to("dup@example.com")) == 1


def test_a_refused_message_is_retried_with_backoff_until_sent(broker, smtp_sink):
    smtp_sink.refuse_next = 1
    row = mail.queue_mail("later@example.com", "Eventually", "Body", now=clock.now())
    received = smtp_sink.wait_for("later@example.com", timeout=60)
    assert received[0].subject == "Eventually"
    wait_until(lambda: mail.MailOutbox.get_by_id(row.id).status == "sent")
    stored = mail.MailOutbox.get_by_id(row.id)
    assert (stored.status, stored.attempts) == ("sent", 2)
