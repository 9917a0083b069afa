"""The frameworks app's listener on the lead core (settings.QUALIFY_LISTENERS).

Rejections with teeth: when an AE rejects a handoff for a reason that names a framework dimension
("No authority" → Authority), the lead's answer to that criterion is disputed in the rejection's
transaction. Answers are append-only, so the dispute is a new answer row that repeats the current
status or value, marked `disputed`, written by the AE with their note as its evidence. It earns no
credit (completeness drops) and hand_off refuses the lead until a rep answers that criterion again
with new evidence (answers.record_answer), so the lead cannot go straight back unchanged.
"""

from __future__ import annotations

import pgtrigger
from django.utils import timezone

from qualify.leads.changes import IN_TRANSACTION, HandoffChanged, LeadsMerged, listen
from qualify.leads.models import DisqualifyReason, Lead

from .models import Answer, Criterion
from .selection import framework_for

REJECTED = "rejected"  # HandoffStatus.REJECTED; the handoff app sits above this one


@listen("handoff_changed", when=IN_TRANSACTION)
def dispute_rejected_dimension(batch: list[HandoffChanged]) -> None:
    """No query unless the batch holds a rejection with a reason; then one for the reasons, and for
    each rejection whose reason names a dimension: the lead, its framework, the matching criteria,
    their current answers and one insert."""
    rejected = [c for c in batch if c.status == REJECTED and c.reason_id]
    if not rejected:
        return
    dimensions = dict(
        DisqualifyReason.objects.filter(pk__in={c.reason_id for c in rejected}).exclude(dimension="")
        .values_list("pk", "dimension")
    )
    for change in rejected:
        dimension = dimensions.get(change.reason_id, "").strip()
        if dimension and change.by_id is not None:
            _dispute(change, dimension)


def _dispute(change: HandoffChanged, dimension: str) -> None:
    lead = Lead.objects.select_related("account").get(pk=change.lead_id)
    framework = framework_for(lead)
    if framework is None:
        return
    note = (change.extra.get("decision_note") or change.note or "").strip()
    now = timezone.now()
    disputes = []
    for criterion in Criterion.objects.filter(framework=framework, active=True, dimension__iexact=dimension):
        current = Answer.objects.filter(lead=lead, criterion=criterion).order_by("-created_at", "-id").first()
        disputes.append(Answer(
            lead=lead, criterion=criterion, criterion_version=criterion.version, question_text=criterion.question,
            status=current.status if current else "", value=current.value if current else "",
            evidence=note, author_id=change.by_id, created_at=now, disputed=True,
        ))
    Answer.objects.bulk_create(disputes)


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_answers(batch: list[LeadsMerged]) -> None:
    """Every answer of the merged lead joins the survivor's, with its author, evidence and time;
    the newest answer per criterion is the current one, as always (completeness reads it so).
    Answers are append-only: the trigger is lifted only for this move of their lead."""
    with pgtrigger.ignore("frameworks.Answer:answer_append_only"):
        for change in batch:
            Answer.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)
