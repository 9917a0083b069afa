"""Through real Celery worker processes (Redis broker, the test database): a change is delivered
by the after-commit task, and a worker killed mid-delivery loses nothing: the next worker's sweep
delivers the row once its lease has run out, with the same webhook-id."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from qualify.celery import app
from qualify.leads import records
from qualify.leads.models import Account
from qualify.webhooks import delivery
from qualify.webhooks.models import Delivery, Endpoint, EventType
from tests.scoring.test_worker import REDIS, ROOT, _database_url, _redis_up

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def start_worker() -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "CELERY_BROKER_URL": REDIS,
           "DJANGO_SETTINGS_MODULE": "qualify.settings", "WEBHOOKS_ALLOW_PRIVATE_ADDRESSES": "true",
           "WEBHOOK_LEASE_SECONDS": "2", "WEBHOOK_RETRY_BASE_SECONDS": "0.1"}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "qualify", "worker", "-Q", "default", "--pool", "solo", "--loglevel", "WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def send(name: str, args: list | None = None) -> None:
    with app.connection_for_write(REDIS) as conn:
        app.send_task(name, args=args or [], connection=conn)


@pytest.fixture
def workers(monkeypatch):
    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS}")
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    monkeypatch.setattr(delivery, "kick", lambda ids: send("webhooks.deliver", [ids]))
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        started.append(start_worker())
        return started[-1]

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


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
    workers()
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
    first = workers()
    make_change(north, maria)
    wait_for(lambda: len(r.attempts) == 1)  # the worker is waiting for the receiver's answer...
    first.send_signal(signal.SIGKILL)  # ...and dies
    first.wait(timeout=10)
    held.set()
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("pending", 1)  # claimed by the dead worker, under its lease
    workers()
    deadline = time.monotonic() + 30
    while not r.delivered():  # the beat entry's job, sent by hand here
        assert time.monotonic() < deadline, r.attempts
        send("webhooks.sweep")
        time.sleep(1)
    assert len(r.delivered()) == 1 and len({msg_id for msg_id, _, _ in r.attempts}) == 1
    wait_for(lambda: Delivery.objects.get().status == "delivered")
    assert Delivery.objects.get().attempts == 2
