"""The handoff app's listener on the lead core (settings.QUALIFY_LISTENERS).

A lead leaves Handed off through accept or reject, which decide the handoff before they move the
lead. Any other way out (an imported Won or Lost, a disqualify) would leave the handoff pending and
its SLA clock running, so the sweep would escalate a closed deal: those handoffs are closed here,
in the move's transaction, and their clocks cancelled (handoff_changed, status closed).
"""

from __future__ import annotations

from django.utils import timezone

from qualify.leads.changes import IN_TRANSACTION, HandoffChanged, LeadsMerged, StageChanged, listen, publish
from qualify.leads.models import Lead, Stage

from .models import Handoff, HandoffStatus


@listen("stage_changed", when=IN_TRANSACTION)
def close_left_handoffs(batch: list[StageChanged]) -> None:
    """One query when nothing left Handed off (the usual case: none of the batch did, no query)."""
    left = {c.lead_id: c for c in batch if c.from_stage == Stage.HANDED_OFF}
    if not left:
        return
    pending = list(Handoff.objects.select_for_update().filter(lead_id__in=list(left), status=HandoffStatus.PENDING))
    if not pending:
        return
    now = timezone.now()
    for handoff in pending:
        change = left[handoff.lead_id]
        handoff.status, handoff.decided_at, handoff.decided_by_id = HandoffStatus.CLOSED, now, change.by_id
        handoff.decision_note = f"Closed: the lead moved to {Stage(change.to_stage).label}" + (
            f" ({change.why})" if change.why else "")
    Handoff.objects.bulk_update(pending, ["status", "decided_at", "decided_by", "decision_note"])
    publish("handoff_changed", [
        HandoffChanged(h.pk, h.lead_id, HandoffStatus.CLOSED, h.decided_by_id, note=h.decision_note[:200],
                       extra={"at": now, "to_user_id": h.to_user_id, "from_user_id": h.from_user_id})
        for h in pending
    ])


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_handoffs(batch: list[LeadsMerged]) -> None:
    """The merged lead's handoffs move to the survivor. A lead has one pending handoff at most, and
    only while Handed off (accept and reject expect that stage): the merged lead's is closed (its AE
    clock with it) when the survivor has one already or is not waiting for an AE, else it would be
    stranded there, decided by nobody and blocking the survivor's next handoff."""
    waiting = set(Lead.objects.filter(pk__in=[c.survivor_id for c in batch], stage=Stage.HANDED_OFF)
                  .values_list("pk", flat=True))
    for change in batch:
        if change.survivor_id not in waiting or Handoff.objects.filter(
                lead_id=change.survivor_id, status=HandoffStatus.PENDING).exists():
            pending = list(Handoff.objects.select_for_update().filter(lead_id=change.merged_id, status=HandoffStatus.PENDING))
            now, note = timezone.now(), f"Closed: the lead was merged into lead #{change.survivor_id}"
            for handoff in pending:
                handoff.status, handoff.decided_at, handoff.decided_by_id = HandoffStatus.CLOSED, now, change.by_id
                handoff.decision_note = note
            Handoff.objects.bulk_update(pending, ["status", "decided_at", "decided_by", "decision_note"])
            publish("handoff_changed", [
                HandoffChanged(h.pk, h.lead_id, HandoffStatus.CLOSED, h.decided_by_id, note=note,
                               extra={"at": now, "to_user_id": h.to_user_id, "from_user_id": h.from_user_id})
                for h in pending
            ])
        Handoff.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)
