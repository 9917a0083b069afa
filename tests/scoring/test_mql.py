"""Crossing the threshold (or a hard trigger) moves a lead to MQL through the lifecycle, with the
rules that did it, and the score at that moment is kept."""

import pytest
import time_machine

from qualify.leads.models import Lead, Persona, Seniority, Stage
from qualify.scoring import scores
from qualify.scoring.models import ScoreSnapshot
from tests.factories import LeadFactory
from tests.scoring.conftest import NOW, event


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_crossing_the_threshold_makes_an_mql_with_the_rules_that_did_it(north, alice):
    lead = LeadFactory(team=north, owner=alice, seniority=Seniority.C_LEVEL, persona=Persona.ECONOMIC_BUYER)
    for i in range(3):
        event(lead, days_ago=1 + i / 10, page_category="pricing")
    event(lead, "webinar_attended", days_ago=2)
    scores.score_leads([lead.pk])
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL
    change = lead.stage_changes.get(to_stage=Stage.MQL)
    assert change.by is None
    assert "reached the MQL threshold 60" in change.why and "C-level" in change.why and "Pricing page view" in change.why
    snap = ScoreSnapshot.objects.get(lead=lead, kind="mql")
    assert snap.score == lead.score_now and snap.version_id == lead.score_version_id


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_demo_request_is_a_hard_trigger_even_below_the_threshold(north, alice):
    lead = LeadFactory(team=north, owner=alice)
    event(lead, "demo_request", days_ago=0.1)
    scores.score_leads([lead.pk])
    lead.refresh_from_db()
    assert lead.score_now < 60 and lead.stage == Stage.MQL
    assert lead.stage_changes.get(to_stage=Stage.MQL).why.startswith("Hard trigger: Demo request")


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("stage, moves", [(Stage.NEW, True), (Stage.NURTURE, True), (Stage.WORKING, False), (Stage.MQL, False)])
def test_only_new_and_nurture_leads_are_promoted(north, alice, stage, moves):
    lead = LeadFactory(team=north, owner=alice, stage=stage)
    event(lead, "demo_request", days_ago=0.1)
    scores.score_leads([lead.pk])
    lead.refresh_from_db()
    assert lead.stage == (Stage.MQL if moves else stage)
    assert lead.stage_changes.filter(to_stage=Stage.MQL).count() == (1 if moves else 0)


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_an_old_demo_request_does_not_trigger_and_a_low_score_stays_new(north, alice):
    lead = LeadFactory(team=north, owner=alice)
    event(lead, "demo_request", days_ago=45)
    event(lead, page_category="careers", days_ago=1)
    scores.score_leads([lead.pk])
    lead.refresh_from_db()
    assert lead.stage == Stage.NEW and lead.score_version_id is not None


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_the_bulk_path_promotes_the_same_leads(north, alice):
    hot = LeadFactory(team=north, owner=alice)
    cold = LeadFactory(team=north, owner=alice)
    event(hot, "demo_request", days_ago=0.2)
    written, mqls = scores.recompute_ids([hot.pk, cold.pk], scores.live_specs())
    assert (written, mqls) == (2, 1)
    assert Lead.objects.get(pk=hot.pk).stage == Stage.MQL and Lead.objects.get(pk=cold.pk).stage == Stage.NEW
