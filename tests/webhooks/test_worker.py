"""Through real Celery worker processes (Redis broker, the test database): a change is delivered
by the after-commit task, and a worker killed mid-delivery loses nothing: the next worker's sweep
delivers the row once its lease has run out, with the same webhook-id."""

from __future__ import annotations

import signal
import threading
import time

import pytest

from qualify.leads import records
from qualify.leads.models import Account
from qualify.webhooks import delivery
from qualify.webhooks.models import Delivery, Endpoint, EventType
from qualify.webhooks.tasks import deliver, sweep
from tests.workers import own_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The worker's settings: loopback receivers allowed, a short lease and quick retries.
WORKER_ENV = {"WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true", "WEBHOOK_LEASE_SECONDS": "2", "WEBHOOK_RETRY_BASE_SECONDS": "0.1"}


@pytest.fixture
def workers(monkeypatch):
    """Start workers on the configured Redis under a key prefix of their own (tests/workers.py);
    the after-commit kick publishes there."""
    with own_broker() as broker:
        monkeypatch.setattr(delivery, "kick", lambda ids: broker.send(deliver, ids))
        broker.start = lambda: broker.worker(name=f"w{len(broker.procs)}", **WORKER_ENV)
        yield broker


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def make_change(north, maria):
    account = Account.objects.create(name="Acme", team=north)
    return records.create_lead(by=maria, team=north, account=account, first_name="Dana")


def test_the_after_commit_task_delivers_through_a_real_worker(north, maria, receiver, workers):
    endpoint = Endpoint(team=north, url="http://placeholder.invalid/", events=[EventType.LEAD_CREATED])
    r = receiver(endpoint.secret)
    endpoint.url = r.url
    endpoint.save()
    workers.start()
    lead = make_change(north, maria)
    wait_for(lambda: r.delivered())
    assert [p["data"]["lead"]["id"] for p in r.delivered()] == [lead.pk]
    wait_for(lambda: Delivery.objects.get().status == "delivered")


def test_a_worker_killed_mid_delivery_loses_nothing(north, maria, receiver, workers):
    held = threading.Event()
    endpoint = Endpoint(team=north, url="http://placeholder.invalid/", events=[EventType.LEAD_CREATED])
    r = receiver(endpoint.secret, hold_first=held)
    endpoint.url = r.url
    endpoint.save()
    first = workers.start()
    make_change(north, maria)
    wait_for(lambda: len(r.attempts) == 1)  # the worker is waiting for the receiver's answer...
    workers.stop(first, signal.SIGKILL)  # ...and dies
    held.set()
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)  # claimed by the dead worker, under its lease
    workers.start()
    deadline = time.monotonic() + 30
    while not r.delivered():  # the beat entry's job, sent by hand here
        assert time.monotonic() < deadline, r.attempts
        workers.send(sweep)
        time.sleep(1)
    assert len(r.delivered()) == 1 and len({msg_id for msg_id, _, _ in r.attempts}) == 1
    wait_for(lambda: Delivery.objects.get().status == "delivered")
    assert Delivery.objects.get().attempts == 2
