"""The pipeline app's listeners on the lead core (settings.QUALIFY_LISTENERS)."""

from __future__ import annotations

import pgtrigger

from accounts.models import User
from qualify.leads.changes import IN_TRANSACTION, LeadsMerged, TaskDone, listen
from qualify.reviews.models import FollowUpTask, TaskKind

from .models import LeadOpportunityStage, OpportunityStageChange, Requalification, RequalStatus
from .requalification import resolve


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_pipeline_rows(batch: list[LeadsMerged]) -> None:
    """Re-qualifications and opportunity sub-stages of the merged lead move to the survivor. Where a
    lead may have one only (one open re-qualification per kind, one current sub-stage), the
    survivor's stays: an open re-qualification of the merged lead is resolved; the merged lead's
    current sub-stage gives way (its sub-stage history still moves)."""
    for c in batch:
        old, new = c.merged_id, c.survivor_id
        open_kinds = Requalification.objects.filter(lead_id=new, status=RequalStatus.OPEN).values_list("kind", flat=True)
        Requalification.objects.filter(lead_id=old, status=RequalStatus.OPEN, kind__in=list(open_kinds)).update(
            status=RequalStatus.RESOLVED)
        Requalification.objects.filter(lead_id=old).update(lead_id=new)
        if LeadOpportunityStage.objects.filter(lead_id=new).exists():
            LeadOpportunityStage.objects.filter(lead_id=old).delete()
        else:
            LeadOpportunityStage.objects.filter(lead_id=old).update(lead_id=new)
        with pgtrigger.ignore("pipeline.OpportunityStageChange:oppstagechange_append_only"):
            OpportunityStageChange.objects.filter(lead_id=old).update(lead_id=new)


@listen("task_done", when=IN_TRANSACTION)
def resolve_requalification_of_done_task(batch: list[TaskDone]) -> None:
    """A re-qualification task marked done resolves its re-qualification, with the task's closing
    note, in the task's transaction (a refusal there rolls the task back too). One query per batch
    and the resolve's own for each re-qualification task."""
    changes = {c.task_id: c for c in batch if c.kind == TaskKind.REQUALIFY}
    if not changes:
        return
    tasks = FollowUpTask.objects.filter(pk__in=changes, requalification__isnull=False).select_related("requalification")
    users = User.objects.in_bulk({c.by_id for c in changes.values()})
    for task in tasks:
        c = changes[task.pk]
        resolve(task.requalification, by=users[c.by_id], note=c.note or "Task done", from_task=True)
