"""The `notifications.deliver` actor, run by a real worker on the session's broker."""
from __future__ import annotations

from models import channels, clock
from tests.conftest import drain
from tests.jobs import held_jobs


def test_the_same_delivery_delivered_twice_sends_once(broker, webhook_sink):
    with held_jobs():
        delivery = channels.queue_delivery(type="webhook", address=f"{webhook_sink.url}/once",
                                           kind="test", subject="s", body="b",
                                           payload={"type": "test"}, now=clock.now())
    actor = broker.get_actor("notifications.deliver")
    actor.send(str(delivery.id))
    actor.send(str(delivery.id))
    drain(broker)
    assert len(webhook_sink.received("/once")) == 1
    assert channels.Delivery.get_by_id(delivery.id).status == "sent"


def test_a_delivery_to_a_bare_address_goes_out(broker, twilio):
    channels.queue_delivery(type="sms", address="+15005550010", kind="invitation", subject="s",
                            body="Join us", now=clock.now())
    assert twilio.wait_for("/2010-04-01/")[0].form()["Body"] == "Join us"
