"""The `notifications.deliver` actor, run by a real worker on the session's broker: every
message of the outbox (mail, SMS, webhook) goes out through it."""
from __future__ import annotations

import uuid

from models import clock, outbox
from models.outbox import Delivery
from tests.conftest import drain
from tests.jobs import held_jobs
from tests.polling import wait_until


def mail(to, subject="Subject", body="Body"):
    return outbox.queue(key=f"test:{uuid.uuid4()}", type="email", address=to, kind="test",
                        subject=subject, body=body, now=clock.now())


def test_the_same_delivery_delivered_twice_sends_once(broker, webhook_sink):
    with held_jobs():
        delivery = outbox.queue(key="test:webhook-once", type="webhook",
                                address=f"{webhook_sink.url}/once", kind="test", subject="s",
                                body="b", payload={"type": "test"}, now=clock.now())
    actor = broker.get_actor("notifications.deliver")
    actor.send(str(delivery.id))
    actor.send(str(delivery.id))
    drain(broker)
    received = webhook_sink.received("/once")
    assert len(received) == 1
    assert received[0].headers["x-pinghome-delivery"] == str(delivery.id)
    assert Delivery.get_by_id(delivery.id).status == "sent"


def test_a_delivery_to_a_bare_address_goes_out(broker, twilio):
    outbox.queue(key="invitation:sms:0", type="sms", address="+15005550010", kind="invitation",
                 subject="s", body="Join us", now=clock.now())
    assert twilio.wait_for("/2010-04-01/")[0].form()["Body"] == "Join us"


def test_a_queued_mail_is_delivered_by_the_worker(broker, smtp_sink):
    mail("actor@example.com")
    assert smtp_sink.wait_for("actor@example.com")[0].subject == "Subject"


def test_the_same_mail_delivered_twice_sends_one_mail(broker, smtp_sink):
    row = mail("dup@example.com", subject="Once")
    broker.get_actor("notifications.deliver").send(str(row.id))
    broker.get_actor("notifications.deliver").send(str(row.id))
    drain(broker)
    assert len(smtp_sink.to("dup@example.com")) == 1


def test_a_refused_mail_is_retried_with_backoff_until_sent(broker, smtp_sink):
    smtp_sink.refuse_next = 1
    row = mail("later@example.com", subject="Eventually")
    received = smtp_sink.wait_for("later@example.com", timeout=60)
    assert received[0].subject == "Eventually"
    wait_until(lambda: Delivery.get_by_id(row.id).status == "sent")
    stored = Delivery.get_by_id(row.id)
    assert (stored.status, stored.attempts) == ("sent", 2)


def test_a_webhook_retried_after_a_failure_carries_the_same_delivery_id(broker, webhook_sink):
    webhook_sink.answers["/flaky"] = (500, b"down")
    row = outbox.queue(key="test:flaky", type="webhook", address=f"{webhook_sink.url}/flaky",
                       kind="test", subject="s", body="b", payload={"type": "test"},
                       now=clock.now())
    webhook_sink.wait_for("/flaky")
    webhook_sink.answers["/flaky"] = (200, b"{}")
    wait_until(lambda: Delivery.get_by_id(row.id).status == "sent", timeout=60)
    ids = {r.headers["x-pinghome-delivery"] for r in webhook_sink.received("/flaky")}
    assert len(webhook_sink.received("/flaky")) >= 2 and ids == {str(row.id)}
