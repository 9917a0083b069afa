"""Versions: a better retrain replaces the active one after scoring every lead; a worse one
waits for approval and changes nothing until approved; a lead never loses its probability."""

from __future__ import annotations

import pytest
from django.db import connection

from qualify.errors import DomainError
from qualify.leads.models import Lead
from qualify.predictions import scoring, training, versions
from qualify.predictions.models import PredictionVersion, Status

from .helpers import make_leads

pytestmark = pytest.mark.django_db


def _train(**kw) -> PredictionVersion:
    return versions.run_training(versions.request_training(run=False, **kw).pk)


@pytest.fixture
def active(north):
    make_leads(north, 1200, seed=11)
    make_leads(north, 30, seed=12, closed=False)
    version = _train()
    assert version.status == Status.ACTIVE, version.error
    return version


def test_a_worse_retrain_waits_for_approval_and_changes_no_lead(active, monkeypatch):
    before = dict(Lead.objects.values_list("pk", "predicted"))
    real_train = training.train

    def worse(*args, **kwargs):
        bundle, report, base = real_train(*args, **kwargs)
        report["overall"]["auc"] = base["auc"] - 0.05  # as if it ranked worse on the same leads
        return bundle, report, base

    monkeypatch.setattr(training, "train", worse)
    second = _train()
    assert second.status == Status.AWAITING_APPROVAL
    assert second.baseline["version"] == active.number
    # Same held-out leads: the baseline was measured on this version's held-out set.
    assert second.baseline["n"] == second.report["overall"]["n"]
    assert PredictionVersion.objects.get(status=Status.ACTIVE) == active
    assert dict(Lead.objects.values_list("pk", "predicted")) == before
    assert set(Lead.objects.values_list("predicted_version", flat=True)) == {active.pk}


def test_approving_scores_every_lead_then_switches(active, django_capture_on_commit_callbacks, monkeypatch):
    second = versions.request_training(run=False)
    PredictionVersion.objects.filter(pk=second.pk).update(status=Status.AWAITING_APPROVAL)
    bundle, report, _ = training.train(365)
    PredictionVersion.objects.filter(pk=second.pk).update(artifact=bundle.dumps(), report=report)
    second.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        versions.approve(second)
    assert len(callbacks) == 1
    versions.activate(second.pk)  # what the queued task runs
    second.refresh_from_db()
    active.refresh_from_db()
    assert (second.status, active.status) == (Status.ACTIVE, Status.RETIRED)
    assert set(Lead.objects.values_list("predicted_version", flat=True)) == {second.pk}
    assert not Lead.objects.filter(predicted__isnull=True).exists()
    with pytest.raises(DomainError):
        versions.approve(second)  # not awaiting approval any more


def test_declining_keeps_the_active_version(active):
    second = PredictionVersion.objects.create(number=active.number + 1, status=Status.AWAITING_APPROVAL)
    versions.decline(second)
    second.refresh_from_db()
    assert second.status == Status.DECLINED
    assert PredictionVersion.objects.get(status=Status.ACTIVE) == active


def test_one_training_at_a_time(db):
    first = versions.request_training(run=False)
    assert versions.request_training(run=False) == first
    with pytest.raises(DomainError):
        versions.request_training(run=False, window_days=0)


def test_a_redelivered_training_does_nothing(active):
    assert versions.run_training(active.pk) is None


def test_new_leads_and_scored_batches_get_a_probability(active, north, django_capture_on_commit_callbacks):
    from qualify.leads import records

    account = Lead.objects.first().account
    with django_capture_on_commit_callbacks(execute=True):
        lead = records.create_lead(first_name="New", account=account, team=north, seniority="c_level", by=None)
    lead.refresh_from_db()
    assert lead.predicted is not None and lead.predicted_version == active.pk
    # The batch writer changes nothing when the probability is already right.
    assert scoring.predict_ids([lead.pk]) == 0


def test_a_retrain_while_scoring_leaves_no_lead_without_a_probability(active, north):
    """Leads created after the new version scored everyone still get one in the catch-up pass."""
    make_leads(north, 5, seed=13, closed=False)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM leads_lead WHERE predicted IS NULL")
        assert cur.fetchone()[0] == 5  # bulk-created, no listener ran
    second = _train()
    assert second.status == Status.ACTIVE
    assert not Lead.objects.filter(predicted__isnull=True).exists()
