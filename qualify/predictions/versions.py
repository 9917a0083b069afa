"""The life of a prediction version: requested, trained, then either activated (after scoring
every lead with it) or held for approval when it does worse than the active version on the same
held-out leads. The only code that changes a version's status."""

from __future__ import annotations

import logging
import traceback

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from qualify.errors import DomainError

from . import scoring, training
from .models import PredictionVersion, Status

log = logging.getLogger(__name__)
DEFAULT_WINDOW_DAYS = 365


def request_training(*, by=None, window_days: int = DEFAULT_WINDOW_DAYS, run: bool = True) -> PredictionVersion:
    """Queue a training (the admin button, the weekly beat entry). One at a time: a version still
    queued, training or scoring is returned instead of a second one."""
    if window_days < 1:
        raise DomainError("The window must be at least one day.")
    with transaction.atomic():
        running = PredictionVersion.objects.select_for_update().filter(
            status__in=(Status.QUEUED, Status.TRAINING, Status.SCORING)
        ).first()
        if running:
            return running
        number = (PredictionVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
        version = PredictionVersion.objects.create(number=number, window_days=window_days, requested_by=by)
        if run:
            from .tasks import train_version

            transaction.on_commit(lambda: train_version.delay(version.pk))
    return version


def _progress(version_id: int):
    def report(pct: int, note: str) -> None:
        PredictionVersion.objects.filter(pk=version_id).update(progress=pct, progress_note=note[:200])
    return report


def run_training(version_id: int) -> PredictionVersion | None:
    """Train a queued version (claimed by a conditional UPDATE, so a redelivered message does
    nothing), judge it against the active version, and activate it when it is not worse."""
    if not PredictionVersion.objects.filter(pk=version_id, status=Status.QUEUED).update(
        status=Status.TRAINING, progress=1, progress_note="Starting"
    ):
        return None
    version = PredictionVersion.objects.get(pk=version_id)
    active_id = scoring.active_version_id()
    try:
        baseline = scoring.bundle_of(active_id) if active_id else None
        bundle, report, base = training.train(version.window_days, progress=_progress(version_id), baseline=baseline)
    except Exception as e:  # the page shows why; nothing else changes
        if not isinstance(e, training.NotEnoughOutcomes):
            log.exception("Training prediction version %s failed", version_id)
        PredictionVersion.objects.filter(pk=version_id).update(
            status=Status.FAILED, error=str(e) if isinstance(e, training.NotEnoughOutcomes) else traceback.format_exc()[-4000:],
            progress_note="Failed",
        )
        return PredictionVersion.objects.get(pk=version_id)
    if active_id:
        base["version"] = PredictionVersion.objects.values_list("number", flat=True).get(pk=active_id)
    worse = bool(base) and (report["overall"]["auc"] or 0) < (base.get("auc") or 0)
    PredictionVersion.objects.filter(pk=version_id).update(
        report=report, baseline=base, artifact=bundle.dumps(), trained_at=timezone.now(),
        status=Status.AWAITING_APPROVAL if worse else Status.SCORING, progress=100 if worse else 0,
        progress_note="Scores lower than the active version on the same held-out leads" if worse else "Scoring leads",
    )
    if not worse:
        activate(version_id)
    return PredictionVersion.objects.get(pk=version_id)


def approve(version: PredictionVersion, *, by=None) -> None:
    """RevOps accepts a version that scored lower than the active one: it scores every lead, then
    becomes active."""
    if not PredictionVersion.objects.filter(pk=version.pk, status=Status.AWAITING_APPROVAL).update(
        status=Status.SCORING, progress=0, progress_note="Approved; scoring leads"
    ):
        raise DomainError(f"{version} is not awaiting approval.")
    from .tasks import activate_version

    transaction.on_commit(lambda: activate_version.delay(version.pk))


def decline(version: PredictionVersion, *, by=None) -> None:
    if not PredictionVersion.objects.filter(pk=version.pk, status=Status.AWAITING_APPROVAL).update(
        status=Status.DECLINED, progress_note="Declined"
    ):
        raise DomainError(f"{version} is not awaiting approval.")


def activate(version_id: int) -> None:
    """Score every lead with the version (leads keep their old probability meanwhile), switch,
    then rescore the few leads the old version wrote during the pass."""
    def report(done: int, total: int) -> None:
        PredictionVersion.objects.filter(pk=version_id).update(
            progress=int(100 * done / total), progress_note=f"Scored {done:,} of {total:,} leads"
        )

    scoring.predict_all(version_id, progress=report)
    with transaction.atomic():
        PredictionVersion.objects.filter(status=Status.ACTIVE).update(status=Status.RETIRED)
        PredictionVersion.objects.filter(pk=version_id, status=Status.SCORING).update(
            status=Status.ACTIVE, activated_at=timezone.now(), progress=100, progress_note="Active"
        )
    scoring.predict_all(version_id, where=f"l.predicted_version IS DISTINCT FROM {int(version_id)}")
