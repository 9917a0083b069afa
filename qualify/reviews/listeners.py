"""The reviews app's listener on the lead core (settings.QUALIFY_LISTENERS)."""

from __future__ import annotations

from qualify.leads.changes import IN_TRANSACTION, LeadsMerged, listen

from .models import FollowUpTask, ReviewItem


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_review_rows(batch: list[LeadsMerged]) -> None:
    """Review items and follow-up tasks of the merged lead move to the survivor. A lead may have one
    item per review queue: the survivor's stays, but a merged item with a verdict replaces a
    survivor's item without one. (Re-qualifications and sub-stages: qualify/pipeline/listeners.py.)"""
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
