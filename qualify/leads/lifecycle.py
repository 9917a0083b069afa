"""The lead lifecycle: the only code that changes a lead's stage.

Every transition is guarded by ALLOWED, done under a row lock, and appended to StageChange, so
views, API, admin actions and tasks all obey the same rules.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from qualify.errors import DomainError
from qualify.formatting import show_date

from .changes import StageChanged, publish
from .models import DisqualifyReason, Lead, ReasonAction, Stage, StageChange, clean_note

if TYPE_CHECKING:
    from accounts.models import User

S = Stage
ALLOWED: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.MQL, S.WORKING, S.NURTURE, S.DISQUALIFIED}),
    S.MQL: frozenset({S.WORKING, S.NURTURE, S.DISQUALIFIED}),
    S.WORKING: frozenset({S.HANDED_OFF, S.NURTURE, S.DISQUALIFIED}),
    # A rejected handoff goes back to WORKING (the SDR) or out through a side exit.
    S.HANDED_OFF: frozenset({S.ACCEPTED, S.WORKING, S.NURTURE, S.DISQUALIFIED}),
    S.ACCEPTED: frozenset({S.OPPORTUNITY, S.LOST, S.NURTURE, S.DISQUALIFIED}),
    S.OPPORTUNITY: frozenset({S.WON, S.LOST, S.NURTURE, S.DISQUALIFIED}),
    S.WON: frozenset(),
    # Closed-lost deals can be recycled into nurture for a later cycle.
    S.LOST: frozenset({S.NURTURE}),
    S.NURTURE: frozenset({S.NEW, S.MQL, S.WORKING, S.DISQUALIFIED}),
    S.DISQUALIFIED: frozenset({S.NEW, S.NURTURE}),
}

# Stages an SDR may pick from the queue's inline "move" menu; the rest happen through their own
# verbs (hand off, accept, reject, nurture, disqualify) because they need more than a click.
MANUAL_STAGES = frozenset({S.NEW, S.MQL, S.WORKING, S.OPPORTUNITY, S.WON, S.LOST})


# Lead fields move_stage never writes: each has its own verb (assignment.assign).
NOT_HERE = frozenset({"owner", "owner_id"})

# Moving into these stages clears a disqualify reason left from an earlier exit.
CLEARS_REASON = frozenset({S.NEW, S.MQL, S.ACCEPTED, S.OPPORTUNITY, S.WON})


def can_move(from_stage: str, to: str) -> bool:
    return to in ALLOWED[from_stage]


def allowed_next(stage: str) -> list[str]:
    """Stages reachable from `stage`, in lifecycle order."""
    return [s for s in Stage.values if s in ALLOWED[stage]]


def manual_next(stage: str) -> list[str]:
    """A handed-off lead waits for the AE: only accept or reject (with a reason) moves it on."""
    if stage == S.HANDED_OFF:
        return []
    return [s for s in allowed_next(stage) if s in MANUAL_STAGES]


def _refuse_if_waiting_for_ae(lead: Lead) -> None:
    if lead.stage == S.HANDED_OFF:
        raise DomainError("This lead is waiting for an AE, who accepts or rejects it with a reason.")


def move_stage(
    lead: Lead,
    *,
    to: str,
    by: User | None,
    why: str = "",
    reason: DisqualifyReason | None = None,
    recycle_on: datetime.date | None = None,
    expect: str | None = None,
    not_waiting: bool = False,
    **changes: object,
) -> Lead:
    """Move `lead` to stage `to`, or raise DomainError and change nothing.

    Locks the row, re-checks the stage (another user may have moved it), writes the lead and one
    StageChange row, then publishes the move (qualify.leads.changes). `expect` makes the move
    conditional on the stage the caller saw; `not_waiting` refuses a lead that is waiting for an AE
(nurture and disqualify: a handoff may land between the caller's read and this lock, and
Handed off → Nurture is allowed, for rejections); `changes` are extra lead fields set in the same write
    (the AE on a handoff); never the owner, which only assignment.assign changes. Costs 3 queries
    plus the in-transaction listeners'.
    """
    if not NOT_HERE.isdisjoint(changes):
        raise TypeError(f"move_stage does not change {', '.join(sorted(NOT_HERE & set(changes)))}: use its own verb")
    if to not in Stage.values:
        raise DomainError(f"'{to}' is not a stage.", field="stage")
    with transaction.atomic():
        current = Lead.objects.select_for_update().get(pk=lead.pk)
        if expect is not None and current.stage != expect:
            raise DomainError(
                f"This lead is now {current.get_stage_display()}; someone else changed it first.", field="stage"
            )
        if not_waiting:
            _refuse_if_waiting_for_ae(current)
        if not can_move(current.stage, to):
            raise DomainError(
                f"A lead cannot move from {current.get_stage_display()} to {Stage(to).label}.", field="stage"
            )
        if to == S.NURTURE and recycle_on is None:
            raise DomainError("Nurture needs a recycle date.", field="recycle_on")
        if to == S.NURTURE and recycle_on <= timezone.localdate():
            raise DomainError("The recycle date must be in the future.", field="recycle_on")
        if to == S.DISQUALIFIED and reason is None:
            raise DomainError("Disqualifying needs a reason.", field="reason")
        now = timezone.now()
        from_stage = current.stage
        current.stage = to
        current.stage_changed_at = now
        current.recycle_on = recycle_on if to == S.NURTURE else None
        if to in (S.NURTURE, S.DISQUALIFIED) or reason is not None:
            current.disqualify_reason = reason
        elif to in CLEARS_REASON:
            current.disqualify_reason = None
        for field, value in changes.items():
            setattr(current, field, value)
        current.save()
        StageChange.objects.create(
            lead=current, from_stage=from_stage, to_stage=to, by=by, at=now, why=why, reason=reason
        )
        publish("stage_changed", [StageChanged(current.pk, from_stage, to, by.pk if by else None, why,
                                               reason.pk if reason else None)])
    _refresh(lead, current)
    return lead


def move_many(moves: dict[int, tuple[str, str]], *, to: str, by: User | None) -> list[int]:
    """Move many leads to `to` at once (the scorer's MQL promotions): `moves` maps a lead id to
    (the stage the caller saw, why). A lead is moved only if it is still in that stage and the
    lifecycle allows the move; the others are left as they are. Only for moves that need nothing
    more (not Nurture or Disqualified, which need a reason). Returns the ids moved.

    The same rules and records as move_stage, set-based: 3 queries for the batch, and one
    after-commit hook (SLA clocks, routing) for all of them.
    """
    if to not in Stage.values or to in (S.NURTURE, S.DISQUALIFIED):
        raise DomainError(f"'{to}' cannot be a bulk move.", field="stage")
    with transaction.atomic():
        current = Lead.objects.select_for_update().filter(pk__in=list(moves)).order_by("pk")
        moved = {pk: stage for pk, stage in current.values_list("pk", "stage")
                 if stage == moves[pk][0] and can_move(stage, to)}
        if not moved:
            return []
        now = timezone.now()
        changes: dict[str, object] = {"stage": to, "stage_changed_at": now, "recycle_on": None, "updated_at": now}
        if to in CLEARS_REASON:
            changes["disqualify_reason"] = None
        Lead.objects.filter(pk__in=list(moved)).update(**changes)
        StageChange.objects.bulk_create(
            StageChange(lead_id=pk, from_stage=stage, to_stage=to, by=by, at=now, why=moves[pk][1])
            for pk, stage in moved.items()
        )
        by_id = by.pk if by else None
        publish("stage_changed", [StageChanged(pk, stage, to, by_id, moves[pk][1]) for pk, stage in moved.items()])
    return list(moved)


def _refresh(stale: Lead, fresh: Lead) -> None:
    """Copy the committed state onto the caller's instance so it never shows the old stage."""
    for field in Lead._meta.concrete_fields:
        setattr(stale, field.attname, getattr(fresh, field.attname))


def check_reason(reason: DisqualifyReason | None, note: str) -> DisqualifyReason:
    """Reasons must be active, and a reason that demands a note gets one of its minimum length."""
    if reason is None:
        raise DomainError("Choose a reason.", field="reason")
    if not reason.active:
        raise DomainError(f"'{reason}' is retired; choose another reason.", field="reason")
    note = clean_note(note)
    if reason.note_required and len(note) < max(reason.min_note_length, 1):
        raise DomainError(
            f"'{reason}' needs a note of at least {max(reason.min_note_length, 1)} characters.", field="note"
        )
    return reason


def nurture(
    lead: Lead, *, reason: DisqualifyReason, note: str, by: User | None, recycle_on: datetime.date | None = None
) -> Lead:
    """Park a lead in Nurture until `recycle_on` (default: the reason's recycle delay), for a
    reason that nurtures (the API took a close reason the page never offers)."""
    _refuse_if_waiting_for_ae(lead)
    check_reason(reason, note)
    if reason.action != ReasonAction.NURTURE:
        raise DomainError(f"“{reason}” does not nurture leads; choose a nurture reason.", field="reason")
    recycle_on = recycle_on or timezone.localdate() + datetime.timedelta(days=reason.recycle_days or 1)
    return move_stage(lead, to=S.NURTURE, by=by, why=note.strip(), reason=reason, recycle_on=recycle_on,
                      not_waiting=True)


def disqualify(lead: Lead, *, reason: DisqualifyReason, note: str, by: User | None) -> Lead:
    """Close a lead out of the funnel with a reason."""
    _refuse_if_waiting_for_ae(lead)
    check_reason(reason, note)
    return move_stage(lead, to=S.DISQUALIFIED, by=by, why=note.strip(), reason=reason, not_waiting=True)


def apply_reason(lead: Lead, *, reason: DisqualifyReason, note: str, by: User | None, **changes: object) -> Lead:
    """Send a lead where `reason` says: back to the SDR, to nurture, or out. Used by rejections."""
    check_reason(reason, note)
    if reason.action == ReasonAction.BACK_TO_SDR:
        return move_stage(lead, to=S.WORKING, by=by, why=note.strip(), reason=reason, **changes)
    if reason.action == ReasonAction.NURTURE:
        recycle_on = timezone.localdate() + datetime.timedelta(days=reason.recycle_days or 1)
        return move_stage(lead, to=S.NURTURE, by=by, why=note.strip(), reason=reason, recycle_on=recycle_on, **changes)
    return move_stage(lead, to=S.DISQUALIFIED, by=by, why=note.strip(), reason=reason, **changes)


def recycle_due(*, today: datetime.date | None = None, batch: int = 500) -> int:
    """Bring nurtured leads whose recycle date has come back to the SDR queue (stage Working).

    Claims rows with SKIP LOCKED so overlapping runs never recycle a lead twice; a lead whose
    date is pushed out meanwhile is simply not due any more. Returns how many were recycled.
    """
    today = today or timezone.localdate()
    done = 0
    while True:
        with transaction.atomic():
            due = list(
                Lead.objects.select_for_update(skip_locked=True)
                .filter(stage=S.NURTURE, recycle_on__lte=today)
                .order_by("recycle_on", "id")[:batch]
            )
            if not due:
                return done
            now = timezone.now()
            history = [
                StageChange(
                    lead=lead, from_stage=S.NURTURE, to_stage=S.WORKING, by=None, at=now,
                    why=f"Recycle date {show_date(lead.recycle_on)} reached", reason=lead.disqualify_reason,
                )
                for lead in due
            ]
            Lead.objects.filter(pk__in=[lead.pk for lead in due]).update(
                stage=S.WORKING, stage_changed_at=now, recycle_on=None, updated_at=now
            )
            StageChange.objects.bulk_create(history)
            publish("stage_changed", [StageChanged(c.lead_id, S.NURTURE, S.WORKING, None, c.why,
                                                   c.reason_id) for c in history])
            done += len(due)
