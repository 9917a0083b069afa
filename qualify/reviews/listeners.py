"""The reviews app's listener on the lead core (settings.QUALIFY_LISTENERS)."""

from __future__ import annotations

import pgtrigger
from django.db.models import Q

from qualify.leads.changes import IN_TRANSACTION, LeadsMerged, listen

from .models import (
    FollowUpTask, LeadOpportunityStage, OpportunityStageChange, Requalification, RequalStatus, ReviewItem,
)


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_review_rows(batch: list[LeadsMerged]) -> None:
    """Review items, follow-up tasks, re-qualifications and opportunity sub-stages of the merged
    lead move to the survivor. Where a lead may have one only (an item per review queue, one open
    re-qualification per kind, one current sub-stage), the survivor's stays: a merged item with a
    verdict replaces a survivor's item without one; an open re-qualification of the merged lead is
    resolved; the merged lead's current sub-stage gives way (its sub-stage history still moves)."""
    for c in batch:
        old, new = c.merged_id, c.survivor_id
        for item in ReviewItem.objects.filter(lead_id=old):
            clash = ReviewItem.objects.filter(lead_id=new, queue_id=item.queue_id).first()
            if clash is None:
                continue
            if item.verdict and not clash.verdict:
                clash.delete()
            else:
                item.delete()
        ReviewItem.objects.filter(lead_id=old).update(lead_id=new)
        FollowUpTask.objects.filter(lead_id=old).update(lead_id=new)
        open_kinds = Requalification.objects.filter(lead_id=new, status=RequalStatus.OPEN).values_list("kind", flat=True)
        Requalification.objects.filter(lead_id=old, status=RequalStatus.OPEN, kind__in=list(open_kinds)).update(
            status=RequalStatus.RESOLVED)
        Requalification.objects.filter(lead_id=old).update(lead_id=new)
        if LeadOpportunityStage.objects.filter(lead_id=new).exists():
            LeadOpportunityStage.objects.filter(lead_id=old).delete()
        else:
            LeadOpportunityStage.objects.filter(lead_id=old).update(lead_id=new)
        with pgtrigger.ignore("reviews.OpportunityStageChange:oppstagechange_append_only"):
            OpportunityStageChange.objects.filter(Q(lead_id=old)).update(lead_id=new)
