"""The SLA app's listeners on the lead core (settings.QUALIFY_LISTENERS; qualify/leads/changes.py).

Clock work that must agree with the change (a touch stops a clock, an owner change moves it, a
handoff decision stops it) runs inside the change's transaction; clocks that start because a lead
became an MQL or was recycled start after commit, once routing has placed the lead.
"""

from __future__ import annotations

from django.db import models

from qualify.leads.changes import AFTER_COMMIT, IN_TRANSACTION, LeadSaved, LeadsMerged, listen
from qualify.leads.models import Lead

from . import clocks
from .models import Clock, ClockStatus, Escalation

listen("stage_changed", when=AFTER_COMMIT)(clocks.stages_changed)
listen("owner_changed", when=IN_TRANSACTION)(clocks.owners_changed)
listen("touched", when=IN_TRANSACTION)(clocks.touched)
listen("handoff_changed", when=IN_TRANSACTION)(clocks.handoffs_changed)


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_clocks(batch: list[LeadsMerged]) -> None:
    """Clocks and escalations of the merged lead move to the survivor. One clock
    of a kind runs per lead: where both ran one, the merged lead's is cancelled (its history stays)."""
    for change in batch:
        both = set(Clock.objects.filter(lead_id=change.survivor_id, status=ClockStatus.OPEN).values_list("kind", flat=True))
        if both:
            clocks.cancel_clocks(change.merged_id, both, note=f"Merged into lead #{change.survivor_id}", by_id=change.by_id)
        Clock.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)
        Escalation.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)


@listen("lead_saved", when=IN_TRANSACTION)
def follow_team_change(batch: list[LeadSaved]) -> None:
    """A lead moved to another team (an edit in admin) takes its running clocks along: the queue's
    SLA filters and the breaches page bound clocks by team, so a clock left on the old team hid a
    breached lead from its new team's managers. One UPDATE for the batch; finished clocks keep the
    team they ran under."""
    moved = [change.lead_id for change in batch if not change.created and "team" in change.fields]
    if moved:
        Clock.objects.filter(lead_id__in=moved, status=ClockStatus.OPEN).update(
            team_id=Lead.objects.filter(pk=models.OuterRef("lead_id")).values("team_id")[:1]
        )
