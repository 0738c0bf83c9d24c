"""`mail.send`, the previous release's mail actor, kept for one release: a message of it still
queued at the upgrade is delivered by `notifications.deliver`'s operation, once."""
from __future__ import annotations

import uuid

from models import clock, outbox
from models.outbox import Delivery
from tests.conftest import drain
from tests.jobs import held_jobs
from tests.polling import wait_until


def held_mail(to):
    with held_jobs():
        return outbox.queue(key=f"test:{uuid.uuid4()}", type="email", address=to, kind="mail",
                            subject="From before", body="Body", now=clock.now())


def test_a_mail_send_message_of_the_previous_release_is_delivered(broker, smtp_sink):
    row = held_mail("old@example.com")
    broker.get_actor("mail.send").send(str(row.id))
    assert smtp_sink.wait_for("old@example.com")[0].subject == "From before"
    wait_until(lambda: Delivery.get_by_id(row.id).status == "sent")


def test_the_same_mail_send_message_delivered_twice_sends_one_mail(broker, smtp_sink):
    row = held_mail("old-dup@example.com")
    broker.get_actor("mail.send").send(str(row.id))
    broker.get_actor("mail.send").send(str(row.id))
    drain(broker)
    assert len(smtp_sink.to("old-dup@example.com")) == 1
