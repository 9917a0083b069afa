"""Publishing a model and the full recompute it starts.

publish() freezes the draft into a new ModelVersion, makes it the model's current version and
queues a ScoreRun. From that moment the incremental path scores any lead it touches with the new
version; the run walks every lead in id batches so the rest follow. A lead's row is rewritten in
one statement with every column from one version, so no lead ever shows a half-applied model: it
shows the old version's complete score until its batch commits, then the new one's.

A batch's writes and the run's `cursor`/`done` advance commit together, so a worker that crashes
or restarts resumes from the last committed batch; a redelivered task that finds the cursor
already moved simply continues from there (never re-adding to `done`).

Each lane's last commit is its heartbeat (`lane_beats`). A worker killed mid-run leaves its message
unacknowledged in Redis until the visibility timeout (an hour); the beat entry "Take over stale
score runs" re-queues any lane silent for STALE_AFTER instead, so the run finishes within minutes
whatever the broker does.
"""

from __future__ import annotations

import datetime
import json
import logging
import time
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from qualify import queueing
from qualify.errors import DomainError
from qualify.leads.models import Lead

from . import scores
from .models import ModelVersion, RunState, ScoreRun, ScoringModel

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)

# A task runs batches for at most this long, then re-queues itself: well inside the Celery time
# limit and the broker's visibility timeout, and lets other tasks interleave.
SLICE_SECONDS = 30
# Lanes of a published model's recompute: one per worker process we expect to have (2 cores here).
LANES = 2
# A lane whose last batch committed longer ago than this lost its worker (a batch takes seconds).
STALE_AFTER = datetime.timedelta(minutes=3)


def publish(model: ScoringModel, *, by: User | None, note: str = "", start_run: bool = True) -> ModelVersion:
    """Publish `model`'s draft as its next version and queue a full recompute. Raises DomainError
    (changing nothing) when the draft cannot score (no rules, or a second default) or is the
    current version unchanged."""
    with transaction.atomic():
        model = ScoringModel.objects.select_for_update().get(pk=model.pk)
        if not model.active:
            raise DomainError("Activate the model before publishing it.")
        if not model.rules.filter(active=True).exists():
            raise DomainError("A model needs at least one active rule.")
        if model.is_default and model.conditions.exists():
            raise DomainError("The default model catches every lead other models do not; remove its segment conditions.")
        if not model.is_default and not model.conditions.exists():
            raise DomainError("A segment model needs at least one condition (or make it the default).")
        if model.draft_is_published():
            raise DomainError(f"Nothing changed since v{model.current_version.number}: edit the draft first. To rescore "
                              "every lead with the published version, run `python manage.py recompute_scores`.")
        number = (model.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ModelVersion.objects.create(
            model=model, number=number, spec=model.to_spec_json(number), note=note, published_by=by
        )
        version.as_spec()  # fail now, not in a worker, if the frozen spec does not parse
        model.current_version = version
        model.save(update_fields=["current_version", "updated_at"])
        if start_run:
            run = start_recompute(version, by=by, lanes=LANES)
            transaction.on_commit(lambda: _enqueue(run))
    return version


def _enqueue(run: ScoreRun) -> None:
    from .tasks import run_recompute

    for lane in range(run.lanes):
        queueing.send(run_recompute, run.pk, lane, fallback="the beat entry that takes over stale runs queues it")


def start_recompute(
    version: ModelVersion, *, by: User | None = None, batch_size: int = 5000, lanes: int = 1
) -> ScoreRun:
    """Create the run row. A run rescores every lead with all live versions, so older active runs
    are superseded rather than left to repeat the same work."""
    ScoreRun.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING]).update(
        state=RunState.SUPERSEDED, finished_at=timezone.now()
    )
    stats = Lead.objects.aggregate(total=Count("id"), max_id=Max("id"))
    # Queued counts as a beat: a run whose messages never reached a worker is taken over too.
    queued = timezone.now().isoformat()
    return ScoreRun.objects.create(
        version=version, total=stats["total"] or 0, max_id=stats["max_id"] or 0, batch_size=batch_size, created_by=by,
        lanes=lanes, lane_cursors={str(k): 0 for k in range(lanes)}, lane_beats={str(k): queued for k in range(lanes)},
    )


def run_batches(
    run_id: int, *, lane: int = 0, seconds: float | None = SLICE_SECONDS, now: datetime.datetime | None = None,
    promote: bool = True,
) -> bool:
    """Process batches of one lane of `run_id` for up to `seconds` (None: to the end). Returns True
    when the lane is finished (or the run is no longer active), False when batches remain.

    Each batch commits its scores together with the lane's cursor. The progress UPDATE only
    applies if the lane's cursor is still the one this batch started from, so a duplicated or
    redelivered task that raced another one rolls its batch back instead of counting it twice.
    Lanes never hold the run row while scoring, so two workers really do run side by side."""
    deadline = None if seconds is None else time.monotonic() + seconds
    key = str(lane)
    while True:
        with transaction.atomic():
            run = ScoreRun.objects.filter(pk=run_id).first()
            if run is None or run.state not in (RunState.QUEUED, RunState.RUNNING) or lane >= run.lanes:
                return True
            if run.state == RunState.QUEUED:
                ScoreRun.objects.filter(pk=run_id, state=RunState.QUEUED).update(
                    state=RunState.RUNNING, started_at=timezone.now()
                )
            cursor = int(run.lane_cursors.get(key, 0))
            leads = Lead.objects.filter(pk__gt=cursor, pk__lte=run.max_id)
            if run.lanes > 1:
                leads = leads.alias(lane=F("id") % run.lanes).filter(lane=lane)
            ids = list(leads.order_by("pk").values_list("pk", flat=True)[: run.batch_size])
            if not ids:
                return _finish_lane(run_id, key)
            written, mqls = scores.recompute_ids(ids, scores.live_specs(), now=now, promote=promote)
            with connection.cursor() as cur:
                cur.execute(
                    """UPDATE scoring_scorerun
                       SET done = done + %s, changed = changed + %s, mqls = mqls + %s, cursor = GREATEST(cursor, %s),
                           lane_cursors = jsonb_set(lane_cursors, ARRAY[%s], to_jsonb(%s::bigint)),
                           lane_beats = jsonb_set(lane_beats, ARRAY[%s], to_jsonb(clock_timestamp()))
                       WHERE id = %s AND state = 'running' AND coalesce((lane_cursors ->> %s)::bigint, 0) = %s""",
                    [len(ids), written, mqls, ids[-1], key, ids[-1], key, run_id, key, cursor],
                )
                if cur.rowcount != 1:
                    # Superseded, or another task did this batch first: undo ours and stop.
                    transaction.set_rollback(True)
                    return True
        if deadline is not None and time.monotonic() >= deadline:
            return False


def _finish_lane(run_id: int, key: str) -> bool:
    """Mark a lane done; the last lane to finish marks the run done."""
    run = ScoreRun.objects.select_for_update().get(pk=run_id)
    run.lane_cursors[key] = run.max_id
    if all(int(run.lane_cursors.get(str(k), 0)) >= run.max_id for k in range(run.lanes)):
        run.state, run.finished_at = RunState.DONE, timezone.now()
        log.info("Score run %s done: %s leads, %s promoted to MQL", run.pk, run.done, run.mqls)
    run.save()
    return True


def recompute_all(
    *, by: User | None = None, now: datetime.datetime | None = None, promote: bool = True
) -> ScoreRun | None:
    """Synchronously rescore every lead with the live versions (demo seeding, management command).
    `promote=False` leaves stages alone (seeded histories). Returns the finished run, or None if
    no model is published."""
    model = ScoringModel.objects.filter(active=True, current_version__isnull=False).order_by("-is_default").first()
    if model is None:
        return None
    run = start_recompute(model.current_version, by=by)
    run_batches(run.pk, seconds=None, now=now, promote=promote)
    run.refresh_from_db()
    return run


def take_over_stale(*, stale_after: datetime.timedelta = STALE_AFTER) -> list[tuple[int, int]]:
    """Re-queue every unfinished lane of an active run whose last beat is older than `stale_after`
    (its worker died, or its message was lost). Returns the (run id, lane) pairs re-queued. The
    claim is a conditional UPDATE of the lane's beat, so two sweeps never re-queue a lane twice; a
    lane whose old worker was only slow just races the new task, and the cursor check in
    run_batches lets one of them count each batch. Costs 1 query plus 1 per stale lane."""
    cutoff = timezone.now() - stale_after
    stale: list[tuple[int, int]] = []
    for run in ScoreRun.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING]):
        for lane in range(run.lanes):
            key = str(lane)
            if int(run.lane_cursors.get(key, 0)) >= run.max_id:
                continue  # finished lane
            beat = run.lane_beats.get(key)
            at = datetime.datetime.fromisoformat(beat) if beat else run.created_at
            if at >= cutoff:
                continue
            with connection.cursor() as cur:
                cur.execute(
                    """UPDATE scoring_scorerun SET lane_beats = jsonb_set(lane_beats, ARRAY[%s], to_jsonb(clock_timestamp()))
                       WHERE id = %s AND state IN ('queued', 'running') AND (lane_beats -> %s) IS NOT DISTINCT FROM %s::jsonb""",
                    [key, run.pk, key, None if beat is None else json.dumps(beat)],
                )
                if cur.rowcount != 1:
                    continue  # it beat meanwhile, or another sweep claimed it
            log.warning("Score run %s lane %s silent since %s: re-queued", run.pk, lane, at.isoformat())
            stale.append((run.pk, lane))
    if stale:
        from .tasks import run_recompute

        for run_id, lane in stale:
            transaction.on_commit(lambda r=run_id, k=lane: queueing.send(run_recompute, r, k, fallback="the next sweep tries again"))
    return stale


def active_run() -> ScoreRun | None:
    return ScoreRun.objects.filter(state__in=[RunState.QUEUED, RunState.RUNNING]).select_related("version").first()
