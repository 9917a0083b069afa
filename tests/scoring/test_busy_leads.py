"""The incremental scorer never waits on a lead another transaction holds (an ingestion adding
events to it, a stage move): it scores the rest, and the task retries the held ones shortly."""

import threading

import pytest
from django.db import connection, transaction

from qualify.leads.models import Lead
from qualify.scoring import scores, tasks
from tests.factories import LeadFactory
from tests.scoring.conftest import event


class IngestionInFlight:
    """Another connection holds a lead FOR SHARE, as ingest.py does between its lock and its
    commit, until release()."""

    def __init__(self, lead):
        self.locked, self._release = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._hold, args=(lead.pk,))
        self.thread.start()
        assert self.locked.wait(10)

    def _hold(self, lead_id):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT id FROM leads_lead WHERE id = %s FOR SHARE", [lead_id])
            self.locked.set()
            self._release.wait(10)
        connection.close()

    def release(self):
        self._release.set()
        self.thread.join(10)


@pytest.mark.django_db(transaction=True)
def test_a_lead_held_by_an_ingestion_is_skipped_then_retried(north, monkeypatch):
    held, free = LeadFactory(team=north), LeadFactory(team=north)
    held_event, free_event = event(held, page_category="pricing"), event(free, page_category="pricing")
    retries = []
    monkeypatch.setattr(tasks.score_leads, "apply_async", lambda args, countdown: retries.append((args, countdown)))

    ingestion = IngestionInFlight(held)
    try:
        assert tasks.score_leads([held.pk, free.pk]) == 1  # returned at once, without waiting
    finally:
        ingestion.release()

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
    ingestion = IngestionInFlight(held)
    real, passes = scores._score, []

    def first_pass_then_commit_the_ingestion(ids, *args, **kwargs):
        out = real(ids, *args, **kwargs)
        passes.append(sorted(ids))
        if len(passes) == 1:
            ingestion.release()
        return out

    monkeypatch.setattr(scores, "_score", first_pass_then_commit_the_ingestion)
    try:
        assert tasks.score_leads([held.pk, free.pk]) == 2
    finally:
        ingestion.release()
    assert passes == [sorted([held.pk, free.pk]), [held.pk]] and retries == []
    assert Lead.objects.get(pk=held.pk).score_watermark == held_event.pk
