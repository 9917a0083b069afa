import datetime
from types import SimpleNamespace

import pytest
import time_machine

from qualify.errors import DomainError
from qualify.leads.models import Stage, StageChange
from qualify.pipeline import requalification, substages
from qualify.pipeline.models import (
    LeadOpportunityStage,
    OpportunityStage,
    OpportunityStageChange,
    RequalStatus,
    RequalTrigger,
    Requalification,
    TriggerKind,
)
from qualify.pipeline.tasks import run_requalification
from qualify.reviews.models import FollowUpTask, TaskKind, TaskStatus
from qualify.reviews.verdicts import complete_task
from tests.conftest import login
from tests.factories import EventFactory, LeadFactory

NOW = datetime.datetime(2026, 5, 1, 12, 0, tzinfo=datetime.UTC)
LONG_AGO = NOW - datetime.timedelta(days=40)


def cold_mql(team, owner, *, score=20, touched=LONG_AGO, since=LONG_AGO):
    return LeadFactory(team=team, owner=owner, stage=Stage.MQL, score=score, last_touch_at=touched, stage_changed_at=since)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


# --- MQL decay -----------------------------------------------------------------------------------


def test_cold_mql_below_threshold_goes_back_to_nurture_with_its_reason(frozen, north, alice):
    lead = cold_mql(north, alice)
    assert requalification.run_mql_decay() == 1
    lead.refresh_from_db()
    assert lead.stage == Stage.NURTURE and lead.disqualify_reason.name == "Nurture — recycle later"
    assert lead.recycle_on == NOW.date() + datetime.timedelta(days=60)
    change = StageChange.objects.get(lead=lead, to_stage=Stage.NURTURE)
    assert change.by is None and change.from_stage == Stage.MQL
    assert "score 20 is below the MQL threshold 50" in change.why and "no touch since 22 Mar 2026" in change.why
    req = Requalification.objects.get(lead=lead)
    assert (req.kind, req.status, req.reason) == (TriggerKind.MQL_DECAY, RequalStatus.APPLIED, change.why)


@pytest.mark.parametrize(
    "kwargs",
    [{"score": 50}, {"touched": NOW - datetime.timedelta(days=3)}, {"since": NOW - datetime.timedelta(days=3), "touched": None}],
    ids=["score at threshold", "touched recently", "became MQL recently, never touched"],
)
def test_warm_or_recent_mqls_stay(frozen, north, alice, kwargs):
    lead = cold_mql(north, alice, **kwargs)
    assert requalification.run_mql_decay() == 0
    lead.refresh_from_db()
    assert lead.stage == Stage.MQL and not Requalification.objects.exists()


def test_a_teams_own_trigger_wins_over_the_catch_all(frozen, north, south, alice, charlie):
    RequalTrigger.objects.create(name="North is strict", kind=TriggerKind.MQL_DECAY, team=north, days=60)
    north_lead = cold_mql(north, alice)  # 40 days cold: not enough for North's 60
    south_lead = cold_mql(south, charlie)  # the catch-all's 30 applies
    assert requalification.run_mql_decay() == 1
    north_lead.refresh_from_db()
    south_lead.refresh_from_db()
    assert (north_lead.stage, south_lead.stage) == (Stage.MQL, Stage.NURTURE)


def test_inactive_trigger_does_nothing(frozen, north, alice):
    RequalTrigger.objects.filter(kind=TriggerKind.MQL_DECAY).update(active=False)
    cold_mql(north, alice)
    assert requalification.run_mql_decay() == 0


def test_trigger_threshold_overrides_the_model(frozen, north, alice):
    RequalTrigger.objects.filter(kind=TriggerKind.MQL_DECAY).update(score_threshold=10)
    cold_mql(north, alice, score=20)
    assert requalification.run_mql_decay() == 0


def test_threshold_comes_from_the_scoring_model_that_scored_the_lead(monkeypatch):
    from qualify.scoring import scores

    monkeypatch.setattr(scores, "version_spec", lambda version_id: SimpleNamespace(mql_threshold=75.0))
    trigger = RequalTrigger(kind=TriggerKind.MQL_DECAY, score_threshold=None)
    assert requalification.mql_threshold(SimpleNamespace(score_version_id=3), trigger) == 75.0
    assert requalification.mql_threshold(SimpleNamespace(score_version_id=None), trigger) == 50


def test_score_now_uses_the_scoring_engines_decay(monkeypatch, frozen, north, alice):
    from qualify.scoring import ranking

    monkeypatch.setattr(ranking, "score_now", lambda lead, now=None: 5)
    lead = cold_mql(north, alice, score=90)  # stored score is high, but it has decayed to 5 now
    assert requalification.run_mql_decay() == 1
    lead.refresh_from_db()
    assert lead.stage == Stage.NURTURE


def test_decay_sweep_is_idempotent(frozen, north, alice):
    cold_mql(north, alice)
    assert run_requalification() == {"nurtured": 1, "flagged": 0}
    assert run_requalification() == {"nurtured": 0, "flagged": 0}


# --- quiet opportunities --------------------------------------------------------------------------


def quiet_opportunity(team, owner, **kw):
    return LeadFactory(team=team, owner=owner, ae=owner, stage=Stage.OPPORTUNITY, last_touch_at=LONG_AGO,
                       stage_changed_at=LONG_AGO, **kw)


def test_quiet_opportunity_is_flagged_and_the_owner_gets_a_task(frozen, north, erin):
    lead = quiet_opportunity(north, erin)
    assert requalification.run_opportunity_inactivity() == 1
    req = Requalification.objects.get(lead=lead)
    assert req.kind == TriggerKind.OPPORTUNITY_INACTIVE and req.status == RequalStatus.OPEN
    assert "No activity on this opportunity since 22 Mar 2026 (21+ days)" in req.reason
    task = FollowUpTask.objects.get(requalification=req)
    assert (task.kind, task.assignee, task.due_on) == (TaskKind.REQUALIFY, erin, NOW.date() + datetime.timedelta(days=3))
    assert requalification.run_opportunity_inactivity() == 0  # already flagged
    assert Requalification.objects.count() == 1


def test_any_recent_activity_keeps_an_opportunity_off_the_list(frozen, north, erin):
    with_event = quiet_opportunity(north, erin)
    EventFactory(lead=with_event, occurred_at=NOW - datetime.timedelta(days=2))
    with_sub_stage = quiet_opportunity(north, erin)
    OpportunityStageChange.objects.create(lead=with_sub_stage, to_stage=OpportunityStage.objects.first(),
                                          at=NOW - datetime.timedelta(days=1))
    quiet_opportunity(north, erin, first_name="Quiet")
    assert requalification.run_opportunity_inactivity() == 1
    assert Requalification.objects.get().lead.first_name == "Quiet"


# --- checkpoint sub-stages ------------------------------------------------------------------------


@pytest.fixture
def opportunity(north, erin):
    return LeadFactory(team=north, owner=erin, ae=erin, stage=Stage.OPPORTUNITY)


def stage(name):
    return OpportunityStage.objects.get(name=name)


def test_entering_a_checkpoint_asks_the_owner_to_reconfirm(opportunity, erin):
    substages.move_opportunity_stage(opportunity, to=stage("Discovery"), by=erin)
    assert not Requalification.objects.exists()
    substages.move_opportunity_stage(opportunity, to=stage("Pricing / proposal"), by=erin)
    req = Requalification.objects.get()
    assert req.kind == TriggerKind.CHECKPOINT_STAGE and req.checkpoint == stage("Pricing / proposal")
    assert "Moved to Pricing / proposal: re-confirm the framework answers" in req.reason
    assert FollowUpTask.objects.get().assignee == erin
    assert LeadOpportunityStage.objects.get(lead=opportunity).stage == stage("Pricing / proposal")
    assert list(OpportunityStageChange.objects.order_by("at", "id").values_list("to_stage__name", flat=True)) == [
        "Discovery", "Pricing / proposal"]


def test_sub_stages_only_for_opportunities_and_never_the_same_twice(north, erin, opportunity):
    other = LeadFactory(team=north, owner=erin, stage=Stage.ACCEPTED)
    with pytest.raises(DomainError, match="Only opportunities"):
        substages.move_opportunity_stage(other, to=stage("Discovery"), by=erin)
    substages.move_opportunity_stage(opportunity, to=stage("Discovery"), by=erin)
    with pytest.raises(DomainError, match="already in Discovery"):
        substages.move_opportunity_stage(opportunity, to=stage("Discovery"), by=erin)
    assert OpportunityStageChange.objects.count() == 1


def test_checkpoint_trigger_switched_off(opportunity, erin):
    RequalTrigger.objects.filter(kind=TriggerKind.CHECKPOINT_STAGE).update(active=False)
    substages.move_opportunity_stage(opportunity, to=stage("Demo done"), by=erin)
    assert not Requalification.objects.exists()


def test_resolving_needs_a_note_and_closes_the_task(opportunity, erin, alice):
    substages.move_opportunity_stage(opportunity, to=stage("Demo done"), by=erin)
    req = Requalification.objects.get()
    with pytest.raises(DomainError, match="at least 10"):
        requalification.resolve(req, by=erin, note="ok")
    with pytest.raises(DomainError, match="can change this lead"):
        requalification.resolve(req, by=alice, note="Re-confirmed budget with the CFO")
    requalification.resolve(req, by=erin, note="Re-confirmed budget with the CFO")
    req.refresh_from_db()
    assert req.status == RequalStatus.RESOLVED and req.resolved_by == erin
    assert FollowUpTask.objects.get().status == TaskStatus.DONE


def test_completing_the_task_resolves_the_requalification(opportunity, erin):
    substages.move_opportunity_stage(opportunity, to=stage("Security / legal review"), by=erin)
    complete_task(FollowUpTask.objects.get(), by=erin, note="Security questionnaire answered, sponsor confirmed")
    assert Requalification.objects.get().status == RequalStatus.RESOLVED


# --- pages and API ----------------------------------------------------------------------------------


def test_lead_page_shows_sub_stage_and_open_request(client, opportunity, erin):
    substages.move_opportunity_stage(opportunity, to=stage("Demo done"), by=erin)
    html = login(client, erin).get(f"/leads/{opportunity.pk}/").content.decode()
    assert 'id="requalify-panel"' in html and "Demo done" in html and "re-confirm the framework answers" in html


def test_owner_moves_sub_stage_from_the_lead_page(client, opportunity, erin):
    r = login(client, erin).post(f"/leads/{opportunity.pk}/opportunity-stage/", {"stage": stage("Pricing / proposal").pk})
    assert r.status_code == 302
    assert Requalification.objects.filter(lead=opportunity, status="open").exists()


def test_outsiders_get_404_and_marketing_403(client, opportunity, charlie, mark, erin):
    substages.move_opportunity_stage(opportunity, to=stage("Demo done"), by=erin)
    req = Requalification.objects.get()
    login(client, charlie)
    assert client.post(f"/leads/{opportunity.pk}/opportunity-stage/", {"stage": stage("Negotiation").pk}).status_code == 404
    assert client.post(f"/requalifications/{req.pk}/resolve/", {"note": "x" * 20}).status_code == 404
    login(client, mark)
    assert client.post(f"/leads/{opportunity.pk}/opportunity-stage/", {"stage": stage("Negotiation").pk}).status_code == 403
    assert client.post(f"/requalifications/{req.pk}/resolve/", {"note": "x" * 20}).status_code == 403
    assert LeadOpportunityStage.objects.get(lead=opportunity).stage.name == "Demo done"


def test_api_moves_sub_stage_and_resolves(client, opportunity, erin):
    login(client, erin)
    r = client.post("/api/requalifications/move-sub-stage/", {"lead": opportunity.pk, "stage": stage("Demo done").pk},
                    content_type="application/json")
    assert r.status_code == 200 and r.json()[0]["kind"] == "checkpoint_stage"
    req_id = r.json()[0]["id"]
    bad = client.post(f"/api/requalifications/{req_id}/resolve/", {"note": "no"}, content_type="application/json")
    assert bad.status_code == 400 and "note" in bad.json()
    ok = client.post(f"/api/requalifications/{req_id}/resolve/", {"note": "Budget re-confirmed with CFO"},
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "resolved"


def test_an_over_long_resolution_note_is_refused_and_changes_nothing(client, opportunity, erin):
    substages.move_opportunity_stage(opportunity, to=stage("Demo done"), by=erin)
    req = Requalification.objects.get()
    with pytest.raises(DomainError, match="too long"):
        requalification.resolve(req, by=erin, note="Budget re-confirmed. " * 300)
    login(client, erin)
    r = client.post(f"/api/requalifications/{req.pk}/resolve/", {"note": "x" * 6000}, content_type="application/json")
    assert r.status_code == 400 and "too long" in str(r.json())
    req.refresh_from_db()
    assert req.status == RequalStatus.OPEN and req.resolution_note == ""
    assert FollowUpTask.objects.get().status == TaskStatus.OPEN


def test_a_requalification_id_in_other_digits_is_a_missing_one(client, opportunity, erin):
    substages.move_opportunity_stage(opportunity, to=stage("Demo done"), by=erin)
    req = Requalification.objects.get()
    arabic = "".join(chr(0x0660 + int(d)) for d in str(req.pk))
    login(client, erin)
    assert client.get(f"/api/requalifications/{arabic}/").status_code == 404
    r = client.post(f"/api/requalifications/{arabic}/resolve/", {"note": "Budget re-confirmed with CFO"},
                    content_type="application/json")
    assert r.status_code == 404
    assert Requalification.objects.get().status == RequalStatus.OPEN
