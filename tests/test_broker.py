"""kombu's Redis transport restoring unacknowledged messages on a channel closed after its
connection (what Celery does when the broker connection breaks): without qualify/broker.py this
raised "'NoneType' object has no attribute 'hostname'" and the worker died (issue 12)."""

import pytest
import redis
from kombu import Connection, Exchange, Queue

import qualify.celery  # noqa: F401  (installs the workaround, as every worker does)
from tests.workers import PrivateRedis

pytestmark = pytest.mark.worker


@pytest.fixture
def server():
    server = PrivateRedis()
    server.start()
    yield server
    server.close()


def _consume_one_without_ack(url: str):
    conn = Connection(url, transport_options={"visibility_timeout": 3600})
    queue = Queue("q", Exchange("q"), "q")
    conn.Producer(conn.channel()).publish({"x": 1}, exchange=queue.exchange, routing_key="q", declare=[queue])
    channel = conn.channel()
    delivered = []
    consumer = conn.Consumer(queue, channel=channel, callbacks=[lambda body, message: delivered.append(message)], accept=["json"])
    consumer.consume()
    conn.drain_events(timeout=5)
    assert len(delivered) == 1
    return conn, channel


def test_a_channel_closed_after_its_connection_restores_its_unacked_messages(server):
    conn, channel = _consume_one_without_ack(server.url)
    assert redis.Redis.from_url(server.url).llen("q") == 0
    conn._do_close_transport()  # what Connection.collect() does on a broken connection
    channel.close()  # raised AttributeError: 'NoneType' object has no attribute 'hostname'
    assert redis.Redis.from_url(server.url).llen("q") == 1  # back in its queue for the next worker


def test_with_redis_down_the_restore_fails_as_a_connection_error_kombu_handles(server):
    conn, channel = _consume_one_without_ack(server.url)
    errors = conn.connection_errors
    conn._do_close_transport()
    server.stop()
    try:
        channel.close()
    except errors:
        pass  # celery's ignore_errors() swallows these; the message waits in Redis's unacked set
