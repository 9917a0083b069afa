"""The incremental scorer never waits on a lead another transaction holds (an ingestion adding
events to it, a stage move): it scores the rest, and the task retries the held ones shortly."""

import threading

import pytest
from django.db import connection, transaction

from qualify.leads.models import Lead
from qualify.scoring import scores, tasks
from tests.factories import LeadFactory
from tests.scoring.conftest import event


@pytest.mark.django_db(transaction=True)
def test_a_lead_held_by_an_ingestion_is_skipped_then_retried(north, monkeypatch):
    held, free = LeadFactory(team=north), LeadFactory(team=north)
    held_event, free_event = event(held, page_category="pricing"), event(free, page_category="pricing")
    retries = []
    monkeypatch.setattr(tasks.score_leads, "apply_async", lambda args, countdown: retries.append((args, countdown)))

    locked, release = threading.Event(), threading.Event()

    def ingestion_in_flight():
        # What ingest.py holds between its lock and its commit.
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT id FROM leads_lead WHERE id = %s FOR SHARE", [held.pk])
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=ingestion_in_flight)
    thread.start()
    try:
        assert locked.wait(10)
        assert tasks.score_leads([held.pk, free.pk]) == 1  # returned at once, without waiting
    finally:
        release.set()
        thread.join(10)

    assert Lead.objects.get(pk=free.pk).score_watermark == free_event.pk
    assert Lead.objects.get(pk=held.pk).score_watermark == 0
    assert retries == [(([held.pk],), tasks.BUSY_RETRY_SECONDS)]

    assert tasks.score_leads(*retries[0][0]) == 1  # the retry, once the ingestion committed
    assert Lead.objects.get(pk=held.pk).score_watermark == held_event.pk


@pytest.mark.django_db(transaction=True)
def test_a_lead_released_while_the_rest_are_scored_is_scored_in_the_same_task(north, monkeypatch):
    held, free = LeadFactory(team=north), LeadFactory(team=north)
    held_event = event(held, page_category="pricing")
    event(free, page_category="pricing")
    retries = []
    monkeypatch.setattr(tasks.score_leads, "apply_async", lambda args, countdown: retries.append(args))
    locked, release = threading.Event(), threading.Event()

    def ingestion_in_flight():
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT id FROM leads_lead WHERE id = %s FOR SHARE", [held.pk])
            locked.set()
            release.wait(10)
        connection.close()

    thread = threading.Thread(target=ingestion_in_flight)
    thread.start()
    real, passes = scores._score, []

    def first_pass_then_commit_the_ingestion(ids, *args, **kwargs):
        out = real(ids, *args, **kwargs)
        passes.append(sorted(ids))
        if len(passes) == 1:
            release.set()
            thread.join(10)
        return out

    monkeypatch.setattr(scores, "_score", first_pass_then_commit_the_ingestion)
    try:
        assert locked.wait(10)
        assert tasks.score_leads([held.pk, free.pk]) == 2
    finally:
        release.set()
        thread.join(10)
    assert passes == [sorted([held.pk, free.pk]), [held.pk]] and retries == []
    assert Lead.objects.get(pk=held.pk).score_watermark == held_event.pk
