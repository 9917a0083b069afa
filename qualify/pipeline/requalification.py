"""Re-qualification: qualification is a loop, not a gate passed once.

Three triggers, each an admin-edited RequalTrigger row, each firing recorded as a Requalification
with its reason in words:
- mql_decay: an MQL whose score *now* is below the MQL threshold and that nobody touched for N
  days goes back to Nurture (reason "Nurture — recycle later"), through lifecycle.move_stage;
- opportunity_inactive: an opportunity with no activity (touch, event, answer, stage or sub-stage
  change) for N days is flagged, and its owner gets a task;
- checkpoint_stage: moving an opportunity into a checkpoint sub-stage (after demo, pricing,
  security/legal review) asks the owner to re-confirm the framework answers (a task; the move
  itself is substages.move_opportunity_stage).

The owner's task is a reviews.FollowUpTask (pipeline sits above reviews); completing it there
publishes `task_done`, and listeners.py resolves the re-qualification.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from qualify.errors import DomainError
from qualify.formatting import show_date
from qualify.leads import changes, lifecycle
from qualify.leads.access import can_change_lead
from qualify.leads.models import DisqualifyReason, Event, Lead, Stage, clean_note

from qualify.reviews.models import FollowUpTask, TaskKind, TaskStatus

from .models import OpportunityStage, OpportunityStageChange, RequalStatus, RequalTrigger, Requalification, TriggerKind

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)

NURTURE_REASON = "Nurture — recycle later"
DEFAULT_MQL_THRESHOLD = 50
BATCH = 500
MIN_NOTE = 10


# --- score now -----------------------------------------------------------------------------------


def score_now(lead: Lead, now: datetime.datetime) -> int:
    """The lead's score at `now`, decay included (qualify.scoring's read-time formula; leads never
    scored by a model keep their stored score)."""
    from qualify.scoring.ranking import score_now as scoring_score_now

    return scoring_score_now(lead, now)


def mql_threshold(lead: Lead, trigger: RequalTrigger) -> float:
    """The trigger's own threshold, else the MQL threshold of the model version that scored the
    lead, else 50."""
    if trigger.score_threshold is not None:
        return trigger.score_threshold
    if lead.score_version_id is not None:
        from qualify.scoring.scores import version_spec

        return version_spec(lead.score_version_id).mql_threshold
    return DEFAULT_MQL_THRESHOLD


# --- which trigger applies -----------------------------------------------------------------------


def triggers_by_team(kind: str) -> tuple[dict[int, RequalTrigger], RequalTrigger | None]:
    """Active triggers of `kind`: the teams' own, and the catch-all (team empty)."""
    own, catch_all = {}, None
    for t in RequalTrigger.objects.filter(kind=kind, active=True):
        if t.team_id is None:
            catch_all = t
        else:
            own[t.team_id] = t
    return own, catch_all


def trigger_for(kind: str, team_id: int) -> RequalTrigger | None:
    own, catch_all = triggers_by_team(kind)
    return own.get(team_id, catch_all)


def _scopes(kind: str):
    """(trigger, team filter) pairs covering every team exactly once."""
    own, catch_all = triggers_by_team(kind)
    for team_id, t in own.items():
        yield t, Q(team_id=team_id)
    if catch_all is not None:
        yield catch_all, ~Q(team_id__in=list(own)) if own else Q()


# --- MQL decay -----------------------------------------------------------------------------------


def run_mql_decay(*, now: datetime.datetime | None = None) -> int:
    """Send cold MQLs back to Nurture; returns how many moved.

    Candidates are MQLs with no touch and no stage change for N days (one indexed query per
    trigger, in id batches); for each the score *now* is compared with the threshold, since decay
    is computed at read time. Each move is a move_stage (3 queries) expecting MQL, so a lead
    someone touched or moved meanwhile is skipped rather than overwritten.
    """
    now = now or timezone.now()
    reason = DisqualifyReason.objects.filter(name=NURTURE_REASON).first()
    if reason is None:
        log.warning("mql decay: no '%s' disqualify reason; nothing moved", NURTURE_REASON)
        return 0
    moved = 0
    for trigger, scope in _scopes(TriggerKind.MQL_DECAY):
        cutoff = now - datetime.timedelta(days=trigger.days)
        candidates = (
            Lead.objects.filter(scope, stage=Stage.MQL)
            .annotate(active_at=Greatest("stage_changed_at", "last_touch_at"))
            .filter(active_at__lt=cutoff)
            .order_by("pk")
        )
        after = 0
        while batch := list(candidates.filter(pk__gt=after)[:BATCH]):
            after = batch[-1].pk
            # One move per lead (each its own transaction), but the listeners get each id batch at once.
            with changes.gathered():
                for lead in batch:
                    moved += _decay_one(lead, trigger, reason, now)
    return moved


def _decay_one(lead: Lead, trigger: RequalTrigger, reason: DisqualifyReason, now: datetime.datetime) -> int:
    score, threshold = score_now(lead, now), mql_threshold(lead, trigger)
    if score >= threshold:
        return 0
    last = lead.last_touch_at
    why = (
        f"Re-qualification: score {score} is below the MQL threshold {threshold:g} and "
        + (f"no touch since {show_date(last)}" if last else "never touched")
        + f" ({trigger.days}+ days)."
    )
    recycle_on = timezone.localdate(now) + datetime.timedelta(days=reason.recycle_days or 1)
    try:
        with transaction.atomic():
            lifecycle.move_stage(lead, to=Stage.NURTURE, by=None, why=why, reason=reason, recycle_on=recycle_on, expect=Stage.MQL)
            Requalification.objects.create(
                lead=lead, trigger=trigger, kind=TriggerKind.MQL_DECAY, reason=why, status=RequalStatus.APPLIED, created_at=now
            )
    except DomainError as e:
        log.info("mql decay skipped lead %s: %s", lead.pk, e.message)
        return 0
    return 1


# --- quiet opportunities -------------------------------------------------------------------------


def run_opportunity_inactivity(*, now: datetime.datetime | None = None) -> int:
    """Flag opportunities with no activity for N days; returns how many were flagged.

    Activity is a touch, a stage change, a sub-stage change, an event or a new answer. One query
    per trigger finds them (NOT EXISTS probes on indexed (lead, time) columns); leads that already
    have an open flag are skipped, and the partial unique index makes a racing second sweep a no-op.
    """
    from qualify.frameworks.models import Answer

    now = now or timezone.now()
    flagged = 0
    for trigger, scope in _scopes(TriggerKind.OPPORTUNITY_INACTIVE):
        cutoff = now - datetime.timedelta(days=trigger.days)
        recent = {
            "recent_event": Exists(Event.objects.filter(lead=OuterRef("pk"), occurred_at__gte=cutoff)),
            "recent_answer": Exists(Answer.objects.filter(lead=OuterRef("pk"), created_at__gte=cutoff)),
            "recent_sub": Exists(OpportunityStageChange.objects.filter(lead=OuterRef("pk"), at__gte=cutoff)),
            "open_flag": Exists(
                Requalification.objects.filter(lead=OuterRef("pk"), kind=TriggerKind.OPPORTUNITY_INACTIVE, status=RequalStatus.OPEN)
            ),
        }
        quiet = (
            Lead.objects.filter(scope, stage=Stage.OPPORTUNITY)
            .annotate(active_at=Greatest("stage_changed_at", "last_touch_at"), **recent)
            .filter(active_at__lt=cutoff, recent_event=False, recent_answer=False, recent_sub=False, open_flag=False)
            .order_by("pk")
        )
        for lead in quiet.iterator(chunk_size=BATCH):
            last = max(d for d in (lead.stage_changed_at, lead.last_touch_at) if d)
            why = f"No activity on this opportunity since {show_date(last)} ({trigger.days}+ days): re-qualify it."
            flagged += open_requalification(lead, trigger, TriggerKind.OPPORTUNITY_INACTIVE, why, now) is not None
    return flagged


# --- shared --------------------------------------------------------------------------------------


def open_requalification(
    lead: Lead, trigger: RequalTrigger, kind: str, why: str, now: datetime.datetime,
    checkpoint: OpportunityStage | None = None, by: User | None = None,
) -> Requalification | None:
    """Record an open re-qualification and give the owner a task; None when one is already open."""
    assignee_id = lead.owner_id or lead.ae_id
    try:
        with transaction.atomic():
            req = Requalification.objects.create(
                lead=lead, trigger=trigger, kind=kind, reason=why, status=RequalStatus.OPEN, created_at=now,
                checkpoint=checkpoint,
            )
    except IntegrityError:
        return None  # one is already open for this lead and kind
    if assignee_id is not None:
        FollowUpTask.objects.create(
            kind=TaskKind.REQUALIFY, lead=lead, assignee_id=assignee_id, created_by=by,
            title=f"Re-qualify {lead.full_name}", detail=why, requalification=req,
            due_on=timezone.localdate(now) + datetime.timedelta(days=trigger.task_due_days), created_at=now,
        )
    return req


def resolve(req: Requalification, *, by: User, note: str, from_task: bool = False) -> Requalification:
    """The owner has re-confirmed: close the request (and its task) with a note, held to the one
    note limit (clean_note) like every note a person writes."""
    note = clean_note(note)
    if not from_task and len(note) < MIN_NOTE:
        raise DomainError(f"Say what you re-confirmed (at least {MIN_NOTE} characters).", field="note")
    with transaction.atomic():
        current = Requalification.objects.select_for_update().select_related("lead").get(pk=req.pk)
        if not can_change_lead(by, current.lead):
            raise DomainError("Only people who can change this lead can re-confirm it.")
        if current.status != RequalStatus.OPEN:
            raise DomainError("This re-qualification is not open any more.")
        now = timezone.now()
        current.status, current.resolved_at, current.resolved_by, current.resolution_note = RequalStatus.RESOLVED, now, by, note
        current.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
        if not from_task:
            FollowUpTask.objects.filter(requalification=current, status=TaskStatus.OPEN).update(
                status=TaskStatus.DONE, closed_at=now, closed_by=by, closing_note=note
            )
    for f in Requalification._meta.concrete_fields:
        setattr(req, f.attname, getattr(current, f.attname))
    return req
