"""The life of a prediction version: requested, trained, then either activated (after scoring
every lead with it) or held for approval when it does worse than the active version on the same
held-out leads. The only code that changes a version's status."""

from __future__ import annotations

import datetime
import logging
import traceback

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from qualify import queueing
from qualify.errors import DomainError

from . import scoring, training
from .models import PredictionVersion, Status

log = logging.getLogger(__name__)
DEFAULT_WINDOW_DAYS = 365
# A queued version no worker claimed for this long lost its broker message; a training or scoring
# pass silent (no progress report) for this long lost its worker. Progress is reported at least at
# every segment's fit and every scored batch, minutes apart at 1M leads.
LOST_AFTER = datetime.timedelta(minutes=10)
STALE_AFTER = datetime.timedelta(minutes=15)
MAX_ATTEMPTS = 3


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

            transaction.on_commit(lambda: _send(train_version, version.pk))
    return version


def _send(task, version_id: int) -> None:
    """With the broker unreachable the version stays queued (the page says so) for
    `take_over_stalled`, which sends it again within LOST_AFTER."""
    queueing.send(task, version_id, fallback="the stalled-training sweep sends it again")


def _progress(version_id: int, attempt: int):
    def report(pct: int, note: str) -> None:
        PredictionVersion.objects.filter(pk=version_id, status=Status.TRAINING, attempts=attempt).update(
            progress=pct, progress_note=note[:200], heartbeat_at=timezone.now())
    return report


def run_training(version_id: int) -> PredictionVersion | None:
    """Train a queued version, judge it against the active version, and activate it when it is not
    worse. Claimed by a conditional UPDATE that counts the attempt, so a redelivered message does
    nothing, and a worker whose training the sweep gave to another (`take_over_stalled`) writes
    nothing at the end."""
    with transaction.atomic():
        queued = PredictionVersion.objects.select_for_update().only("attempts").filter(pk=version_id, status=Status.QUEUED).first()
        if queued is None:
            return None
        attempt = queued.attempts + 1
        PredictionVersion.objects.filter(pk=version_id).update(
            status=Status.TRAINING, attempts=attempt, heartbeat_at=timezone.now(), progress=1, progress_note="Starting")
    mine = PredictionVersion.objects.filter(pk=version_id, status=Status.TRAINING, attempts=attempt)
    version = PredictionVersion.objects.get(pk=version_id)
    active_id = scoring.active_version_id()
    try:
        baseline = scoring.bundle_of(active_id) if active_id else None
        bundle, report, base = training.train(version.window_days, progress=_progress(version_id, attempt), baseline=baseline)
    except Exception as e:  # the page shows why; nothing else changes
        if not isinstance(e, training.NotEnoughOutcomes):
            log.exception("Training prediction version %s failed", version_id)
        mine.update(
            status=Status.FAILED, error=str(e) if isinstance(e, training.NotEnoughOutcomes) else traceback.format_exc()[-4000:],
            progress_note="Failed",
        )
        return PredictionVersion.objects.get(pk=version_id)
    if active_id:
        base["version"] = PredictionVersion.objects.values_list("number", flat=True).get(pk=active_id)
    worse = bool(base) and (report["overall"]["auc"] or 0) < (base.get("auc") or 0)
    if not mine.update(
        report=report, baseline=base, artifact=bundle.dumps(), trained_at=timezone.now(),
        status=Status.AWAITING_APPROVAL if worse else Status.SCORING, progress=100 if worse else 0,
        progress_note="Scores lower than the active version on the same held-out leads" if worse else "Scoring leads",
        heartbeat_at=timezone.now(),
    ):
        log.warning("Prediction version %s attempt %s was taken over; this worker's training is dropped", version_id, attempt)
        return None
    if not worse:
        activate(version_id)
    return PredictionVersion.objects.get(pk=version_id)


def approve(version: PredictionVersion, *, by=None) -> None:
    """RevOps accepts a version that scored lower than the active one: it scores every lead, then
    becomes active."""
    if not PredictionVersion.objects.filter(pk=version.pk, status=Status.AWAITING_APPROVAL).update(
        status=Status.SCORING, progress=0, progress_note="Approved; scoring leads", heartbeat_at=timezone.now()
    ):
        raise DomainError(f"{version} is not awaiting approval.")
    from .tasks import activate_version

    transaction.on_commit(lambda: _send(activate_version, version.pk))


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
            progress=int(100 * done / total), progress_note=f"Scored {done:,} of {total:,} leads", heartbeat_at=timezone.now()
        )

    scoring.predict_all(version_id, progress=report)
    with transaction.atomic():
        PredictionVersion.objects.filter(status=Status.ACTIVE).update(status=Status.RETIRED)
        PredictionVersion.objects.filter(pk=version_id, status=Status.SCORING).update(
            status=Status.ACTIVE, activated_at=timezone.now(), progress=100, progress_note="Active"
        )
    scoring.predict_all(version_id, where=f"l.predicted_version IS DISTINCT FROM {int(version_id)}")


def take_over_stalled(*, now: datetime.datetime | None = None) -> int:
    """The beat's sweep, every minute. A queued version no worker claimed for LOST_AFTER (its
    message was lost) is sent again; a training silent for STALE_AFTER (its worker died) is queued
    again and sent; a scoring pass silent as long is sent again (scoring every lead twice is
    harmless). After MAX_ATTEMPTS it fails with the reason, so it stops blocking the next training.
    How many were sent. One query over the few unfinished versions, an UPDATE for each sent."""
    from .tasks import activate_version, train_version

    now = now or timezone.now()
    sent = 0
    with transaction.atomic():
        for version in PredictionVersion.objects.select_for_update(skip_locked=True).only(
                "status", "attempts", "heartbeat_at", "created_at").filter(
                status__in=(Status.QUEUED, Status.TRAINING, Status.SCORING)):
            since = version.heartbeat_at or version.created_at
            if since >= now - (LOST_AFTER if version.status == Status.QUEUED else STALE_AFTER):
                continue
            same = PredictionVersion.objects.filter(pk=version.pk)
            if version.status != Status.QUEUED and version.attempts >= MAX_ATTEMPTS:
                same.update(status=Status.FAILED, progress_note="Failed", error=(
                    f"Its worker stopped {version.attempts} times while {version.get_status_display().lower()} "
                    "(killed, out of memory or restarted); nothing changed. Train again when the workers are healthy."))
                log.warning("Prediction version %s failed: its worker stopped %s times", version.pk, version.attempts)
                continue
            log.warning("Prediction version %s %s with no worker since %s; sent again", version.pk, version.status, since)
            if version.status == Status.SCORING:
                same.update(heartbeat_at=now, attempts=version.attempts + 1)
                transaction.on_commit(lambda pk=version.pk: _send(activate_version, pk))
            else:  # a lost message, or a training whose worker died: queued afresh, the next claim counts
                same.update(status=Status.QUEUED, heartbeat_at=now, progress=0, progress_note="Queued again: no worker had it")
                transaction.on_commit(lambda pk=version.pk: _send(train_version, pk))
            sent += 1
    return sent
