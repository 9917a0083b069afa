"""hand_off, accept, reject and reassign: the only code that creates, decides or redirects a handoff.

Each runs in one transaction: lock, check the current state, write, record the lead's stage change
through the lifecycle (and its owner through assignment), then publish `handoff_changed` (the SLA
app starts or stops the AE's clock in the same transaction). Pages, API and admin get the same
rules and the same errors.
"""

from __future__ import annotations

import pghistory
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Role, User
from qualify.errors import DomainError
from qualify.frameworks.completeness import completeness
from qualify.leads import lifecycle
from qualify.leads.assignment import assign, eligible_owners
from qualify.leads.changes import HandoffChanged, publish
from qualify.leads.models import NOTE_MAX_LENGTH, DisqualifyReason, Lead, ReasonAction, Stage, clean_note

from .access import can_decide, can_reassign
from .models import Handoff, HandoffStatus
from .packet import build_packet

MIN_NEXT_STEP = 10


def eligible_aes(lead: Lead):
    """Active AEs of the lead's team: the people a lead may be handed to."""
    return User.objects.filter(is_active=True, memberships__team_id=lead.team_id, memberships__role=Role.AE).distinct()


def hand_off(lead: Lead, *, to: User, by: User, next_step: str, note: str = "") -> Handoff:
    """Offer a worked lead to an AE with a frozen packet of evidence.

    Refused, changing nothing, while required criteria are unanswered (the error lists them),
    when the lead is not being worked, or when it already waits for an AE.
    """
    next_step = (next_step or "").strip()
    if lead.stage != Stage.WORKING:
        raise DomainError(f"Only leads being worked can be handed off; this one is {lead.get_stage_display()}.")
    progress = completeness(lead)
    if progress.missing_required:
        missing = [str(m) for m in progress.missing_required]
        raise DomainError("Answer the required criteria before handing off: " + "; ".join(missing) + ".", details=missing)
    if not eligible_aes(lead).filter(pk=to.pk).exists():
        # Names nobody: whoever `to` is, the answer must not tell a stranger's name (or existence).
        raise DomainError(f"That person is not an AE on {lead.team}.", field="to_user")
    if len(next_step) > NOTE_MAX_LENGTH or len((note or "").strip()) > NOTE_MAX_LENGTH:
        raise DomainError(f"The next step and the note are each kept to {NOTE_MAX_LENGTH:,} characters; shorten them.",
                          field="note")
    if len(next_step) < MIN_NEXT_STEP:
        raise DomainError(f"Write the next step (at least {MIN_NEXT_STEP} characters), e.g. 'Demo Tue 10am with CFO'.", field="next_step")
    try:
        with transaction.atomic():
            lifecycle.move_stage(lead, to=Stage.HANDED_OFF, by=by, why=next_step, expect=Stage.WORKING, ae=to)
            handoff = Handoff.objects.create(
                lead=lead, team_id=lead.team_id, from_user=by, to_user=to, next_step=next_step, note=note.strip(),
                packet=build_packet(lead, progress), source=lead.source,
            )
            publish("handoff_changed", [HandoffChanged(
                handoff.pk, lead.pk, HandoffStatus.PENDING, by.pk, note=next_step,
                extra={"to_user_id": to.pk, "from_user_id": by.pk, "at": handoff.created_at},
            )])
            return handoff
    except IntegrityError:
        # Another request handed it off between our check and our insert (a double click).
        raise DomainError("This lead is already waiting for an AE.")


def _claim(handoff: Handoff, by: User) -> Handoff:
    """Lock the lead, then the handoff, and make sure it is still waiting: the second of two
    deciders stops here. The lead first, as every move of it (which closes its pending handoff) and
    a merge lock them: the other order deadlocked against those."""
    current = _lock(handoff)
    if not can_decide(by, current):
        raise DomainError("Only the receiving AE or the team's manager can decide this handoff.")
    _still_pending(current)
    return current


def _lock(handoff: Handoff) -> Handoff:
    Lead.objects.select_for_update().filter(pk=handoff.lead_id).exists()
    return Handoff.objects.select_for_update().select_related("to_user").get(pk=handoff.pk)


def _still_pending(current: Handoff) -> None:
    if current.status != HandoffStatus.PENDING:
        raise DomainError(
            f"This handoff was already {current.get_status_display().lower()} by {current.decided_by} "
            f"at {date_format(timezone.localtime(current.decided_at), 'DATETIME_FORMAT')}."
        )


def accept(handoff: Handoff, *, by: User, note: str = "") -> Handoff:
    """The AE takes the lead: it becomes Accepted (SAL/SQL) and the AE owns it."""
    note = clean_note(note)
    with transaction.atomic():
        current = _claim(handoff, by)
        lead = Lead.objects.select_related("team").get(pk=current.lead_id)
        if not eligible_aes(lead).filter(pk=current.to_user_id).exists():
            # The lead would belong to someone off the team (or deactivated): it goes to another AE first.
            raise DomainError(f"{current.to_user} is no longer an active AE on {lead.team}: reassign this handoff "
                              "to another AE of the team, or reject it.")
        # The decision first: the lead's move then finds no pending handoff to close.
        current.status = HandoffStatus.ACCEPTED
        current.decided_at, current.decided_by, current.decision_note = timezone.now(), by, note.strip()
        current.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])
        lifecycle.move_stage(
            lead, to=Stage.ACCEPTED, by=by, why=note.strip() or "Handoff accepted", expect=Stage.HANDED_OFF,
            ae_id=current.to_user_id,
        )
        assign(lead, owner=current.to_user, by=by, why="Handoff accepted")
        _decided(current, by, "Handoff accepted")
    _copy(handoff, current)
    return handoff


def reject(handoff: Handoff, *, by: User, reason: DisqualifyReason | None, note: str) -> Handoff:
    """The AE turns it down with a reason and a note; the reason decides where the lead goes."""
    reason = lifecycle.check_reason(reason, note)
    with transaction.atomic():
        current = _claim(handoff, by)
        lead = Lead.objects.select_related("team").get(pk=current.lead_id)
        current.status = HandoffStatus.REJECTED
        current.decided_at, current.decided_by = timezone.now(), by
        current.reason, current.decision_note = reason, note.strip()
        current.save(update_fields=["status", "decided_at", "decided_by", "reason", "decision_note"])
        lifecycle.apply_reason(lead, reason=reason, note=note, by=by, ae_id=None, expect=Stage.HANDED_OFF)
        # Back to the SDR gives it back to them, or to the team's pool once they are no longer an
        # active rep of it; other exits leave ownership as it was.
        if reason.action == ReasonAction.BACK_TO_SDR:
            sdr = current.from_user if eligible_owners(lead.team_id).filter(pk=current.from_user_id).exists() else None
            assign(lead, owner=sdr, by=by, why=f"Handoff rejected: {reason}")
        _decided(current, by, f"Handoff rejected: {reason}")
    _copy(handoff, current)
    return handoff


def reassign(handoff: Handoff, *, to: User, by: User, note: str = "") -> Handoff:
    """A manager (or an admin) gives a pending handoff to another active AE of the lead's team: the
    one it waits for left, is away, or is overloaded. It stays pending and the lead stays the SDR's;
    the new AE reads it (lead.ae) and is told, and the AE's clock follows its policy's on_reassign
    (sla.clocks.handoffs_changed). The history row of the handoff names who, from whom and why.
    Refused, changing nothing, for a decided handoff or anyone but an active AE of the team."""
    note = clean_note(note)
    with transaction.atomic():
        current = _lock(handoff)
        if not can_reassign(by, current):
            raise DomainError("Only the team's managers can reassign a handoff.")
        _still_pending(current)
        lead = Lead.objects.select_related("team").get(pk=current.lead_id)
        if not eligible_aes(lead).filter(pk=to.pk).exists():
            # Names nobody but the team: whoever `to` is, a stranger's name (or existence) is not told.
            raise DomainError(f"That person is not an active AE on {lead.team}.", field="to_user")
        if to.pk == current.to_user_id:
            raise DomainError(f"This handoff already waits for {current.to_user}.", field="to_user")
        previous, now = current.to_user_id, timezone.now()
        with pghistory.context(handoff_reassigned={"by": by.pk, "from": previous, "to": to.pk, "note": note.strip()}):
            current.to_user = to
            current.save(update_fields=["to_user"])
            Lead.objects.filter(pk=lead.pk).update(ae=to, updated_at=now)
        publish("handoff_changed", [HandoffChanged(
            current.pk, lead.pk, "reassigned", by.pk, note=note.strip(),
            extra={"at": now, "to_user_id": to.pk, "from_user_id": current.from_user_id, "previous_to_user_id": previous,
                   "next_step": current.next_step},
        )])
    _copy(handoff, current)
    return handoff


def _decided(handoff: Handoff, by: User, note: str) -> None:
    publish("handoff_changed", [HandoffChanged(
        handoff.pk, handoff.lead_id, handoff.status, by.pk, handoff.reason_id, note,
        extra={"at": handoff.decided_at, "to_user_id": handoff.to_user_id, "from_user_id": handoff.from_user_id,
               "decision_note": handoff.decision_note},
    )])


def _copy(stale: Handoff, fresh: Handoff) -> None:
    for f in Handoff._meta.concrete_fields:
        setattr(stale, f.attname, getattr(fresh, f.attname))
