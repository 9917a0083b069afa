"""Publishing versions a model and recomputes every lead in batches; a crashed run resumes
without double counting; segment models take their leads; no lead shows a half-applied model."""

import pytest

from qualify.scoring.ranking import score_now
import time_machine
from django.db import transaction

from qualify.errors import DomainError
from qualify.leads.models import Lead
from qualify.scoring import runs, scores
from qualify.scoring.models import ModelVersion, Rule, RuleGroup, RunState, ScoreRun, ScoringModel, SegmentCondition
from tests.factories import AccountFactory, LeadFactory
from tests.scoring.conftest import NOW, event


def _enterprise_model():
    model = ScoringModel.objects.create(name="Enterprise", priority=1, mql_threshold=50, half_life_days=14, total_cap=100)
    SegmentCondition.objects.create(model=model, field="account.segment", op="equals", value="enterprise")
    fit = RuleGroup.objects.create(model=model, name="Fit", kind="fit", cap=60)
    web = RuleGroup.objects.create(model=model, name="Web", kind="engagement", cap=30, window_days=7)
    Rule.objects.create(model=model, group=fit, label="Big company", points=25, field="account.employee_count", op="range", value="1000..")
    Rule.objects.create(model=model, group=web, label="Pricing", points=10, event_type="page_view", prop="page_category", value="pricing", cap=20)
    return model


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_publish_versions_the_model_and_a_run_rescores_every_lead(north, rita, django_capture_on_commit_callbacks):
    ent = AccountFactory(team=north, segment="enterprise", employee_count=5000)
    big = LeadFactory(team=north, account=ent)
    small = LeadFactory(team=north)
    event(big, page_category="pricing")
    model = _enterprise_model()
    with django_capture_on_commit_callbacks() as callbacks:
        version = runs.publish(model, by=rita, note="first")
    assert len(callbacks) == 1  # the recompute task, after commit
    assert version.number == 1 and version.published_by == rita and version.spec["rules"][0]["label"] == "Big company"
    model.refresh_from_db()
    assert model.current_version == version
    run = ScoreRun.objects.get(version=version)
    assert run.state == RunState.QUEUED and run.total == Lead.objects.count()
    assert run.lanes == runs.LANES == 2  # one task per lane was queued
    assert runs.run_batches(run.pk, lane=0, seconds=None) is True
    assert runs.run_batches(run.pk, lane=1, seconds=None) is True
    run.refresh_from_db()
    assert (run.state, run.done, run.percent) == (RunState.DONE, run.total, 100)
    big.refresh_from_db(), small.refresh_from_db()
    assert big.score_version == version and score_now(big) == 35
    assert small.score_version.model.is_default

    # Editing the draft changes nothing until the next publish, which makes v2.
    Rule.objects.filter(model=model, label="Big company").update(points=30)
    big.refresh_from_db()
    assert score_now(big) == 35
    v2 = runs.publish(model, by=rita, start_run=False)
    assert v2.number == 2 and ModelVersion.objects.filter(model=model).count() == 2
    scores.score_leads([big.pk])
    big.refresh_from_db()
    assert big.score_version == v2 and score_now(big) == 40


@pytest.mark.django_db
def test_publishing_a_model_that_cannot_score_changes_nothing(rita):
    model = ScoringModel.objects.create(name="Empty", priority=5)
    with pytest.raises(DomainError, match="at least one active rule"):
        runs.publish(model, by=rita)
    grp = RuleGroup.objects.create(model=model, name="Fit", kind="fit")
    Rule.objects.create(model=model, group=grp, label="VP", points=5, field="seniority", value="vp")
    with pytest.raises(DomainError, match="needs at least one condition"):
        runs.publish(model, by=rita)
    assert not ModelVersion.objects.filter(model=model).exists()
    assert not ScoreRun.objects.exists()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_crashed_run_resumes_from_its_last_batch_without_double_counting(north, monkeypatch):
    leads = [LeadFactory(team=north) for _ in range(7)]
    for lead in leads:
        event(lead, page_category="pricing")
    version = ScoringModel.objects.get(is_default=True).current_version
    run = runs.start_recompute(version, batch_size=3)
    real = scores.recompute_ids
    calls = []

    def crash_on_second_batch(ids, specs, **kw):
        calls.append(ids)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(ids, specs, **kw)

    monkeypatch.setattr(scores, "recompute_ids", crash_on_second_batch)
    with pytest.raises(RuntimeError):
        runs.run_batches(run.pk, seconds=None)
    run.refresh_from_db()
    assert (run.done, run.cursor, run.state) == (3, leads[2].pk, RunState.RUNNING)
    assert Lead.objects.filter(score_version__isnull=False).count() == 3  # the crashed batch rolled back whole

    monkeypatch.setattr(scores, "recompute_ids", real)
    assert runs.run_batches(run.pk, seconds=None)
    run.refresh_from_db()
    assert (run.done, run.total, run.state) == (7, 7, RunState.DONE)
    resumed = {l.pk: (l.score_fit, l.score_engagement, l.score) for l in Lead.objects.all()}
    # A redelivered task for a finished run does nothing.
    assert runs.run_batches(run.pk, seconds=None) is True
    run.refresh_from_db()
    assert run.done == 7
    # And a clean run gives the same scores.
    clean = runs.start_recompute(version, batch_size=100)
    runs.run_batches(clean.pk, seconds=None)
    assert {l.pk: (l.score_fit, l.score_engagement, l.score) for l in Lead.objects.all()} == resumed


@pytest.mark.django_db
def test_a_new_run_supersedes_an_active_one():
    version = ScoringModel.objects.get(is_default=True).current_version
    first = runs.start_recompute(version)
    second = runs.start_recompute(version)
    first.refresh_from_db()
    assert first.state == RunState.SUPERSEDED and second.is_active
    assert runs.run_batches(first.pk) is True  # its queued task exits quietly


@pytest.mark.django_db(transaction=True)
@time_machine.travel(NOW, tick=False)
def test_a_lead_shows_the_old_version_until_its_batch_commits(north):
    """Each lead row is rewritten in one statement with one version's columns; mid-run, leads of
    later batches still carry the old version's complete score."""
    leads = [LeadFactory(team=north) for _ in range(4)]
    v1 = ScoringModel.objects.get(is_default=True).current_version
    runs.run_batches(runs.start_recompute(v1, batch_size=10).pk, seconds=None)
    model = ScoringModel.objects.get(is_default=True)
    Rule.objects.filter(model=model).update(points=1)
    v2 = runs.publish(model, by=None, start_run=False)
    run = runs.start_recompute(v2, batch_size=2)
    with transaction.atomic():
        runs.run_batches(run.pk, seconds=0)  # one batch, then the slice ends
    versions = list(Lead.objects.filter(pk__in=[l.pk for l in leads]).order_by("pk").values_list("score_version", flat=True))
    assert versions == [v2.pk, v2.pk, v1.pk, v1.pk]


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_recompute_scores_command_rescores_everything(north):
    from django.core.management import call_command
    from io import StringIO

    lead = LeadFactory(team=north)
    event(lead, "demo_request", days_ago=0.5)
    out = StringIO()
    call_command("recompute_scores", stdout=out)
    lead.refresh_from_db()
    assert "Rescored" in out.getvalue() and lead.score_version_id and lead.stage == "mql"


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_two_lanes_share_a_run_and_it_is_done_only_when_both_are(north):
    leads = [LeadFactory(team=north) for _ in range(9)]
    for lead in leads:
        event(lead, page_category="pricing")
    version = ScoringModel.objects.get(is_default=True).current_version
    run = runs.start_recompute(version, batch_size=2, lanes=2)
    assert runs.run_batches(run.pk, lane=0, seconds=None) is True
    run.refresh_from_db()
    assert run.state == RunState.RUNNING
    assert set(Lead.objects.filter(score_version__isnull=False).values_list("pk", flat=True)) == {
        l.pk for l in leads if l.pk % 2 == 0
    }
    assert runs.run_batches(run.pk, lane=1, seconds=None) is True
    run.refresh_from_db()
    assert (run.state, run.done, run.total) == (RunState.DONE, 9, 9)
    assert not Lead.objects.filter(score_version__isnull=True).exists()


@pytest.mark.django_db
@time_machine.travel(NOW, tick=False)
def test_a_duplicate_task_that_loses_the_race_rolls_its_batch_back(north, monkeypatch):
    leads = [LeadFactory(team=north) for _ in range(4)]
    version = ScoringModel.objects.get(is_default=True).current_version
    run = runs.start_recompute(version, batch_size=2)
    real = scores.recompute_ids

    def another_worker_finishes_this_batch_first(ids, specs, **kw):
        result = real(ids, specs, **kw)
        ScoreRun.objects.filter(pk=run.pk).update(lane_cursors={"0": ids[-1]}, done=len(ids))
        return result

    monkeypatch.setattr(scores, "recompute_ids", another_worker_finishes_this_batch_first)
    assert runs.run_batches(run.pk, seconds=None) is True  # it stops…
    run.refresh_from_db()
    # …and its whole batch is undone (here the simulated winner wrote inside the same
    # transaction, so it is undone too; a real winner commits on its own connection).
    assert (run.done, run.lane_cursors) == (0, {"0": 0})
    assert not Lead.objects.filter(score_version__isnull=False).exists()


@pytest.mark.django_db
def test_a_lane_silent_past_the_threshold_is_requeued_once(north, monkeypatch, django_capture_on_commit_callbacks):
    import datetime

    from django.utils import timezone

    from qualify.scoring import tasks

    leads = [LeadFactory(team=north) for _ in range(6)]
    version = ScoringModel.objects.get(is_default=True).current_version
    run = runs.start_recompute(version, batch_size=1, lanes=2)
    assert runs.run_batches(run.pk, lane=0, seconds=0) is False  # one batch, then its worker "dies"
    run.refresh_from_db()
    assert set(run.lane_beats) == {"0", "1"}
    assert runs.take_over_stale(stale_after=datetime.timedelta(minutes=3)) == []  # both lanes beat just now

    sent = []
    monkeypatch.setattr(tasks.run_recompute, "delay", lambda *args: sent.append(args))
    old = (timezone.now() - datetime.timedelta(minutes=10)).isoformat()
    ScoreRun.objects.filter(pk=run.pk).update(lane_beats={"0": old, "1": old})
    with django_capture_on_commit_callbacks(execute=True):
        assert runs.take_over_stale(stale_after=datetime.timedelta(minutes=3)) == [(run.pk, 0), (run.pk, 1)]
    assert sent == [(run.pk, 0), (run.pk, 1)]
    # The claim refreshed both beats: a second sweep (or a second beat process) re-queues nothing.
    assert runs.take_over_stale(stale_after=datetime.timedelta(minutes=3)) == []

    # A finished lane is never taken over; a silent unfinished one is.
    assert runs.run_batches(run.pk, lane=1, seconds=None) is True
    ScoreRun.objects.filter(pk=run.pk).update(lane_beats={"0": old, "1": old})
    assert runs.take_over_stale(stale_after=datetime.timedelta(minutes=3)) == [(run.pk, 0)]
    assert runs.run_batches(run.pk, lane=0, seconds=None) is True
    run.refresh_from_db()
    assert (run.state, run.done) == (RunState.DONE, len(leads))
    assert runs.take_over_stale(stale_after=datetime.timedelta(0)) == []


@pytest.mark.django_db
def test_publishing_with_the_broker_down_keeps_the_version_and_the_sweep_queues_its_run(
        north, rita, monkeypatch, django_capture_on_commit_callbacks):
    import datetime

    from kombu.exceptions import OperationalError

    from qualify.scoring import tasks

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    LeadFactory(team=north)
    monkeypatch.setattr(tasks.run_recompute, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        version = runs.publish(_enterprise_model(), by=rita)
    run = ScoreRun.objects.get(version=version)
    assert run.state == RunState.QUEUED
    later = datetime.timedelta(minutes=30)
    with time_machine.travel(run.created_at + later, tick=False):
        assert sorted(runs.take_over_stale()) == [(run.pk, 0), (run.pk, 1)]
