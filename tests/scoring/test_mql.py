"""Crossing the threshold (or a hard trigger) moves a lead to MQL through the lifecycle, with the
rules that did it, and the score at that moment is kept."""

import pytest

from qualify.scoring.ranking import score_now
import time_machine

from django.db import connection
from django.test.utils import CaptureQueriesContext

from qualify.leads.models import Lead, Persona, Seniority, Stage, StageChange
from qualify.routing.models import Method, RoutingRule
from qualify.scoring import scores
from qualify.scoring.explain import explain, explain_many
from qualify.scoring.models import ScoreSnapshot
from qualify.sla.models import Clock, ClockKind
from tests.factories import LeadFactory
from tests.scoring.conftest import NOW, event
from tests.sla.conftest import ship_sla_defaults


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
    assert snap.score == score_now(lead) and snap.version_id == lead.score_version_id


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_demo_request_is_a_hard_trigger_even_below_the_threshold(north, alice):
    lead = LeadFactory(team=north, owner=alice)
    event(lead, "demo_request", days_ago=0.1)
    scores.score_leads([lead.pk])
    lead.refresh_from_db()
    assert score_now(lead) < 60 and lead.stage == Stage.MQL
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


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_explain_many_agrees_with_explain_lead_by_lead(north, alice):
    hot = LeadFactory(team=north, owner=alice, seniority=Seniority.C_LEVEL)
    cold = LeadFactory(team=north, owner=alice)
    event(hot, days_ago=1, page_category="pricing")
    event(hot, "webinar_attended", days_ago=3)
    event(cold, page_category="careers", days_ago=2)
    scores.recompute_ids([hot.pk, cold.pk], scores.live_specs(), promote=False)
    leads = list(Lead.objects.select_related("account").filter(pk__in=[hot.pk, cold.pk]))
    many = explain_many(leads)
    for lead in leads:
        one = explain(lead)
        assert many[lead.pk].total == one.total and many[lead.pk].items() == one.items()
        assert many[lead.pk].lines, "a scored lead is explained by its rules"


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_batch_of_new_mqls_is_promoted_routed_and_clocked_together(
    north, alice, bob, django_capture_on_commit_callbacks
):
    ship_sla_defaults()
    RoutingRule.objects.create(name="North rotation", team=north, method=Method.ROUND_ROBIN)
    pool = [LeadFactory(team=north, owner=None) for _ in range(4)]
    owned = LeadFactory(team=north, owner=alice, seniority=Seniority.C_LEVEL, persona=Persona.ECONOMIC_BUYER)
    working = LeadFactory(team=north, owner=alice, stage=Stage.WORKING)
    for lead in (*pool, working):
        event(lead, "demo_request", days_ago=0.1)
    for i in range(3):
        event(owned, days_ago=1 + i / 10, page_category="pricing")
    event(owned, "webinar_attended", days_ago=2)

    with django_capture_on_commit_callbacks(execute=True):
        written, busy = scores.score_leads([lead.pk for lead in (*pool, owned, working)])

    assert (written, busy) == (6, [])
    leads = {lead.pk: lead for lead in Lead.objects.filter(pk__in=[lead.pk for lead in (*pool, owned, working)])}
    assert all(leads[lead.pk].stage == Stage.MQL for lead in (*pool, owned)) and leads[working.pk].stage == Stage.WORKING
    # The rotation takes turns across the batch, and every new MQL has its first-touch clock.
    assert sorted(leads[lead.pk].owner_id for lead in pool) == sorted([alice.pk, bob.pk] * 2)
    assert leads[owned.pk].owner_id == alice.pk
    clocks = Clock.objects.filter(kind=ClockKind.MQL_FIRST_TOUCH, status="open")
    assert sorted(clocks.values_list("lead_id", flat=True)) == sorted(lead.pk for lead in (*pool, owned))
    whys = dict(StageChange.objects.filter(to_stage=Stage.MQL).values_list("lead_id", "why"))
    assert whys[pool[0].pk].startswith("Hard trigger: Demo request") and "Pricing page view" in whys[owned.pk]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_promoting_a_batch_costs_the_same_queries_as_promoting_one(north, alice):
    leads = [LeadFactory(team=north, owner=alice) for _ in range(6)]
    for lead in leads:
        event(lead, "demo_request", days_ago=0.1)
    spec = scores.live_specs()[0]
    scores.recompute_ids([lead.pk for lead in leads], [spec], promote=False)
    counts = []
    for batch in (leads[:1], leads[1:]):
        with CaptureQueriesContext(connection) as queries:
            promoted = scores.promote_to_mql({lead.pk: spec for lead in batch})
        assert sorted(promoted) == sorted(lead.pk for lead in batch)
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_lead_moved_meanwhile_is_left_out_of_the_batch(north, alice):
    first, second = LeadFactory(team=north, owner=alice), LeadFactory(team=north, owner=alice)
    for lead in (first, second):
        event(lead, "demo_request", days_ago=0.1)
    spec = scores.live_specs()[0]
    scores.recompute_ids([first.pk, second.pk], [spec], promote=False)
    Lead.objects.filter(pk=second.pk).update(stage=Stage.WORKING)  # an SDR picked it up first
    assert scores.promote_to_mql({first.pk: spec, second.pk: spec}) == [first.pk]
    assert Lead.objects.get(pk=second.pk).stage == Stage.WORKING
    assert not StageChange.objects.filter(lead=second, to_stage=Stage.MQL).exists()
