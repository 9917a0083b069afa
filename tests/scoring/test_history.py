"""Score history for calibration: snapshots at MQL, handoff and outcome (any path that records a
stage change), and one daily snapshot per open lead."""

import datetime

import pytest

from qualify.scoring.ranking import score_now
import time_machine

from qualify.leads import lifecycle
from qualify.leads.models import Lead, Stage
from qualify.scoring import scores
from qualify.scoring.history import snapshot_daily
from qualify.scoring.models import ScoreSnapshot
from tests.factories import LeadFactory
from tests.scoring.conftest import NOW, event


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_outcome_snapshot_keeps_the_score_at_that_moment(north, alice, maria):
    lead = LeadFactory(team=north, owner=alice, stage=Stage.OPPORTUNITY)
    event(lead, "webinar_attended", days_ago=1)
    scores.score_leads([lead.pk])
    lead.refresh_from_db()
    lifecycle.move_stage(lead, to=Stage.WON, by=maria, why="Signed")
    snap = ScoreSnapshot.objects.get(lead=lead)
    assert (snap.kind, snap.stage, snap.score, snap.version_id) == ("outcome", "won", score_now(lead), lead.score_version_id)


@pytest.mark.django_db
def test_daily_snapshot_is_once_per_lead_per_day_and_refreshes_the_stored_score(north, alice):
    with time_machine.travel(NOW, tick=False):
        open_lead = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
        closed = LeadFactory(team=north, owner=alice, stage=Stage.LOST)
        for lead in (open_lead, closed):
            event(lead, "webinar_attended", days_ago=0.5)
        scores.score_leads([open_lead.pk, closed.pk])
    later = NOW + datetime.timedelta(days=20)
    assert snapshot_daily(now=later) == 1
    assert snapshot_daily(now=later + datetime.timedelta(hours=1)) == 0  # the same day again: nothing
    snap = ScoreSnapshot.objects.get(kind="daily")
    lead = Lead.objects.get(pk=open_lead.pk)
    from qualify.scoring.ranking import score_now

    assert snap.lead_id == open_lead.pk and snap.score == score_now(lead, later) == lead.score
    assert snap.score < Lead.objects.get(pk=closed.pk).score  # the closed lead was left alone
    assert snapshot_daily(now=later + datetime.timedelta(days=1)) == 1
