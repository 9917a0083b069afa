"""Fault tests with real Celery processes: nothing committed depends on a message surviving in
Redis, or on a worker surviving. Each test starts its own worker (and beat) under a key prefix of
its own and deletes only those keys; the broker restart test runs its own redis-server."""

import datetime
import signal
import time

import psycopg
import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from qualify.leads.models import Event, Lead, Stage
from qualify.scoring import runs, tasks
from qualify.scoring.models import RunState, ScoreRun, ScoringModel
from tests.conftest import login
from tests.factories import LeadFactory
from tests.workers import PrivateRedis, database_url, log_of, own_broker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture(autouse=True)
def _no_scoring_on_lead_creation(monkeypatch):
    """Creating leads queues their scoring after commit; here that would score the leads the test
    means to leave unscored (and publish to the shared broker). Tests send what they mean to."""
    monkeypatch.setattr(tasks.score_leads, "delay", lambda *args, **kwargs: None)


def _only_beat_entry(task: str, **kwargs) -> None:
    """Run just this beat entry, every second, with test arguments (a lowered threshold)."""
    import json

    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.exclude(task=task).update(enabled=False)
    entry = PeriodicTask.objects.get(task=task)
    entry.interval, entry.kwargs, entry.enabled, entry.last_run_at = every_second, json.dumps(kwargs), True, None
    entry.save()


def _unscored(lead_ids) -> list[int]:
    """Leads with an event past their watermark."""
    return [
        lead.pk for lead in Lead.objects.filter(pk__in=lead_ids)
        if Event.objects.filter(lead=lead, id__gt=lead.score_watermark).exists()
    ]


def _event(client_id: str, lead: Lead, type: str = "page_view") -> dict:
    return {"client_id": client_id, "type": type, "occurred_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
            "lead_id": lead.pk, "properties": {"page_category": "pricing"}}


def test_scores_converge_through_the_reconciler_when_messages_are_lost(client, alice, north, monkeypatch):
    leads = [LeadFactory(team=north, owner=alice) for _ in range(12)]
    with own_broker() as broker:
        worker = broker.worker()
        sent = []

        def enqueue_or_lose(lead_ids):
            # Every other batch's message never reaches a worker: Redis down, or the queue dropped.
            if len(sent) % 2:
                sent.append(None)
                raise ConnectionError("Error 111 connecting to redis. Connection refused.")
            sent.append(lead_ids)
            broker.send(tasks.score_leads, lead_ids)

        monkeypatch.setattr(tasks.score_leads, "delay", enqueue_or_lose)
        login(client, alice)
        for batch in range(6):
            pair = leads[2 * batch : 2 * batch + 2]
            body = [_event(f"f{batch}-{i}", lead, "demo_request" if i == 0 else "page_view") for i, lead in enumerate(pair)]
            response = client.post("/api/events/", body, content_type="application/json")
            assert response.status_code == 200 and response.json()["created"] == 2  # stored, whatever the broker did
        delivered = {i for ids in sent if ids for i in ids}
        wait_for(lambda: not _unscored(delivered), 30, "the delivered batches scored", [worker])
        lost = _unscored([lead.pk for lead in leads])
        assert len(lost) == 6 and not set(lost) & delivered

        _only_beat_entry("scoring.reconcile", grace_seconds=0)
        beat = broker.beat()
        wait_for(lambda: not _unscored([lead.pk for lead in leads]), 45, "the reconciler scoring the lost leads", [worker, beat])
    # Every demo request made an MQL, once, with its routing and clock hooks run by the worker.
    mqls = Lead.objects.filter(pk__in=[lead.pk for lead in leads[::2]])
    assert all(lead.stage == Stage.MQL and lead.stage_changes.filter(to_stage=Stage.MQL).count() == 1 for lead in mqls)
    # And the scores equal a full recompute's.
    before = dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "score"))
    runs.recompute_all(promote=False)
    assert dict(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("pk", "score")) == before


def test_a_recompute_whose_worker_is_killed_finishes_through_takeover(north):
    leads = [LeadFactory(team=north) for _ in range(40)]
    version = ScoringModel.objects.get(is_default=True).current_version
    run = runs.start_recompute(version, batch_size=5, lanes=1)
    held = sorted(lead.pk for lead in leads)[22]
    with own_broker() as broker, psycopg.connect(database_url()) as other:
        # Another transaction holds a lead of the 5th batch: the worker stops there, mid-run.
        other.execute("SELECT id FROM leads_lead WHERE id = %s FOR UPDATE", [held])
        worker = broker.worker()
        broker.send(tasks.run_recompute, run.pk, 0)
        wait_for(lambda: ScoreRun.objects.get(pk=run.pk).done == 20, 30, "four batches committed", [worker])
        broker.stop(worker, signal.SIGKILL)  # kill -9: no ack, no restore; the message sits unacked for an hour
        other.rollback()
        assert ScoreRun.objects.get(pk=run.pk).state == RunState.RUNNING

        _only_beat_entry("scoring.take_over_stale_runs", stale_seconds=3)
        second = broker.worker(name="w2")
        beat = broker.beat()
        wait_for(lambda: ScoreRun.objects.get(pk=run.pk).state == RunState.DONE, 45, "the run finished", [second, beat])
    run.refresh_from_db()
    assert (run.done, run.total) == (40, 40)  # each batch counted once
    assert not Lead.objects.filter(pk__in=[lead.pk for lead in leads], score_version__isnull=True).exists()
    assert f"Score run {run.pk} lane 0 silent since" in log_of(second)


def test_the_worker_survives_two_broker_restarts_and_keeps_working(north):
    """The issue's scenario: Redis stopped for 5 s twice while a prefork worker (heartbeat, gossip,
    mingle on, as in production) holds unacknowledged messages."""
    leads = [LeadFactory(team=north) for _ in range(10)]
    version = ScoringModel.objects.get(is_default=True).current_version
    run = runs.start_recompute(version, batch_size=5, lanes=2)
    server = PrivateRedis()
    server.start()
    try:
        with own_broker(server.url) as broker, psycopg.connect(database_url()) as other:
            other.execute("SELECT id FROM leads_lead WHERE id = ANY(%s) FOR UPDATE", [[lead.pk for lead in leads]])
            worker = broker.worker("--concurrency", "2")
            wait_for(lambda: "ready." in log_of(worker), 20, "worker ready", [worker])
            for lane in range(2):
                broker.send(tasks.run_recompute, run.pk, lane)  # both processes block on the held leads
            wait_for(lambda: log_of(worker).count("run_recompute[") >= 2, 15, "both lanes received", [worker])
            time.sleep(1)  # both now wait for the held leads, their messages unacknowledged
            for _ in range(2):
                server.stop()
                time.sleep(5)
                assert worker.poll() is None, "worker exited while Redis was down:\n" + log_of(worker)[-4000:]
                server.start()
                time.sleep(3)
                assert worker.poll() is None, "worker exited after Redis came back:\n" + log_of(worker)[-4000:]
            other.rollback()
            wait_for(lambda: ScoreRun.objects.get(pk=run.pk).state == RunState.DONE, 30, "run done after restarts", [worker])
            # And it still consumes new messages.
            late = LeadFactory(team=north)
            Event.objects.create(lead=late, type="demo_request", occurred_at=timezone.now(), properties={})
            broker.send(tasks.score_leads, [late.pk])
            wait_for(lambda: Lead.objects.get(pk=late.pk).stage == Stage.MQL, 20, "a new message consumed", [worker])
            assert "hostname" not in log_of(worker)
    finally:
        server.close()
