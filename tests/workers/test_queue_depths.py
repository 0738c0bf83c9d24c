"""What a scrape reads of the broker's queues (`workers.broker.queue_depths`), on a broker of
the session's kind (Redis, or the in-process one) with a namespace of its own, so the
session's worker takes nothing from it."""
from __future__ import annotations

import datetime as dt

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker

from workers.broker import _RedisBroker, queue_depths


@pytest.fixture
def spare_broker(settings):
    if settings.redis_url:
        broker = _RedisBroker(url=settings.redis_url, namespace="pinghome-test-depths")
    else:
        broker = StubBroker()
    yield broker
    broker.flush_all()


def message(sent_at_ms: int) -> dramatiq.Message:
    return dramatiq.Message(queue_name="probes.test", actor_name="probes.run", args=(),
                            kwargs={}, options={}, message_timestamp=sent_at_ms)


def test_depths_count_waiting_and_delayed_messages_and_date_the_head(spare_broker):
    spare_broker.declare_queue("probes.test")
    spare_broker.declare_queue("default")
    head = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
    first = int(head.timestamp() * 1000)
    spare_broker.enqueue(message(first))
    spare_broker.enqueue(message(first + 5000))
    spare_broker.enqueue(message(first), delay=3_600_000)
    assert queue_depths(spare_broker) == [("default", 0, 0, None),
                                          ("probes.test", 2, 1, head)]
