"""The reconciler scores leads whose events are past their watermark (their scoring message was
lost), from the database alone, and costs a few indexed queries when every score is current."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_celery_beat.models import PeriodicTask

from qualify.leads.models import Event, Lead, Stage
from qualify.scoring import reconcile, scores
from qualify.scoring.models import Watermark
from tests.factories import LeadFactory
from tests.scoring.conftest import NOW, event

LATER = NOW + datetime.timedelta(seconds=1)
NO_GRACE = datetime.timedelta(0)


def _position() -> int:
    return Watermark.objects.get(name=reconcile.NAME).position


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_leads_whose_scoring_was_lost_are_scored_and_promoted(north, alice):
    scored = LeadFactory(team=north, owner=alice)
    event(scored, page_category="pricing")
    scores.score_leads([scored.pk])  # its message arrived
    lost = LeadFactory(team=north, owner=alice)
    event(lost, "demo_request")  # this one's message was lost: nothing scored it
    assert Lead.objects.get(pk=lost.pk).score_watermark == 0

    assert reconcile.reconcile(now=LATER, grace=NO_GRACE) == 1
    lost.refresh_from_db()
    assert lost.score_watermark == Event.objects.filter(lead=lost).latest("id").pk
    assert lost.stage == Stage.MQL and lost.stage_changes.filter(to_stage=Stage.MQL).count() == 1
    assert _position() == Event.objects.latest("id").pk


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_recent_events_are_left_to_the_regular_path(north, alice):
    lead = LeadFactory(team=north, owner=alice)
    event(lead)
    # Received less than 2 × grace ago: possibly still in flight, so neither scored nor passed.
    assert reconcile.reconcile(now=LATER, grace=datetime.timedelta(minutes=1)) == 0
    assert Lead.objects.get(pk=lead.pk).score_watermark == 0
    assert _position() == 0
    assert reconcile.reconcile(now=NOW + datetime.timedelta(minutes=3)) == 1


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_idle_run_reads_only_past_its_position(north, alice):
    lead = LeadFactory(team=north, owner=alice)
    event(lead)
    scores.score_leads([lead.pk])
    assert reconcile.reconcile(now=LATER, grace=NO_GRACE) == 0
    assert _position() == Event.objects.latest("id").pk
    with CaptureQueriesContext(connection) as queries:
        assert reconcile.reconcile(now=LATER, grace=NO_GRACE) == 0
    # The position row, the horizon (empty) and the probe for a gap: three indexed queries.
    assert len(queries) == 3


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_pass_limited_to_some_leads_continues_from_the_first_left_over(north, alice):
    leads = [LeadFactory(team=north, owner=alice) for _ in range(3)]
    for lead in leads:
        event(lead)
    assert reconcile.reconcile(now=LATER, grace=NO_GRACE, max_leads=2, budget_seconds=0) == 0  # no pass in budget
    assert reconcile.reconcile(now=LATER, grace=NO_GRACE, max_leads=2) == 3
    assert all(w > 0 for w in Lead.objects.filter(pk__in=[l.pk for l in leads]).values_list("score_watermark", flat=True))


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_lead_another_transaction_holds_keeps_the_position_before_its_events(north, alice, monkeypatch):
    held = LeadFactory(team=north, owner=alice)
    first = event(held)
    other = LeadFactory(team=north, owner=alice)
    event(other)
    monkeypatch.setattr(scores, "score_leads", lambda ids: (0, [held.pk]))
    reconcile.reconcile(now=LATER, grace=NO_GRACE)
    assert _position() == first.pk - 1


@pytest.mark.django_db
def test_the_beat_entries_ship_by_migration():
    names = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"scoring.reconcile", "scoring.take_over_stale_runs"} <= names
