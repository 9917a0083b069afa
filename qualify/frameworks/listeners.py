"""The frameworks app's listener on the lead core (settings.QUALIFY_LISTENERS)."""

from __future__ import annotations

import pgtrigger

from qualify.leads.changes import IN_TRANSACTION, LeadsMerged, listen

from .models import Answer


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_answers(batch: list[LeadsMerged]) -> None:
    """Every answer of the merged lead joins the survivor's, with its author, evidence and time;
    the newest answer per criterion is the current one, as always (completeness reads it so).
    Answers are append-only: the trigger is lifted only for this move of their lead."""
    with pgtrigger.ignore("frameworks.Answer:answer_append_only"):
        for change in batch:
            Answer.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)
