"""Through a real Celery worker process (Redis broker, the test database): events posted to the
API become a score and an MQL within seconds, and a redelivered message changes nothing. The
worker uses SCORING_TEST_REDIS or CELERY_BROKER_URL under a key prefix of its own, deleted after
the test; nothing else in that Redis is read or removed."""

import time

import pytest
from django.utils import timezone

from qualify.leads.models import Lead, Stage
from qualify.scoring import tasks
from tests.conftest import login
from tests.workers import own_broker, wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_posted_events_are_scored_by_a_real_worker(client, alice, alices_lead, monkeypatch):
    with own_broker() as broker:
        worker = broker.worker()
        monkeypatch.setattr(tasks.score_leads, "delay", lambda lead_ids: broker.send(tasks.score_leads, lead_ids))
        event = {"client_id": "w-1", "type": "demo_request", "occurred_at": timezone.now().isoformat(), "lead_id": alices_lead.pk}
        assert login(client, alice).post("/api/events/", [event], content_type="application/json").json()["created"] == 1
        wait_for(lambda: Lead.objects.get(pk=alices_lead.pk).stage == Stage.MQL, 30, "the worker scoring the lead", [worker])
        lead = Lead.objects.get(pk=alices_lead.pk)
        assert lead.score_version_id is not None and lead.score_watermark > 0
        # A redelivered message (or a retried request) changes nothing.
        client.post("/api/events/", [event], content_type="application/json")
        broker.send(tasks.score_leads, [alices_lead.pk])
        time.sleep(1.5)
    again = Lead.objects.get(pk=alices_lead.pk)
    assert again.stage_changes.filter(to_stage=Stage.MQL).count() == 1
    assert again.score_watermark == lead.score_watermark


def test_worker_tests_delete_only_their_own_keys():
    import redis

    from tests.workers import redis_url

    url = redis_url()
    client = redis.Redis.from_url(url)
    someone_elses = f"someone-else:{time.time_ns()}"
    client.set(someone_elses, "keep me", ex=60)
    try:
        with own_broker(url) as broker:
            broker.send(tasks.score_leads, [1])  # nobody consumes it: the queue key stays until cleanup
            assert any(k.startswith(broker.prefix.encode()) for k in client.scan_iter(match=broker.prefix + "*"))
        assert not list(client.scan_iter(match=broker.prefix + "*"))
        assert client.get(someone_elses) == b"keep me"
    finally:
        client.delete(someone_elses)
