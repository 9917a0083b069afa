"""The SLA app's listeners on the lead core (settings.QUALIFY_LISTENERS; qualify/leads/changes.py).

Clock work that must agree with the change (a touch stops a clock, an owner change moves it, a
handoff decision stops it) runs inside the change's transaction; clocks that start because a lead
became an MQL or was recycled start after commit, once routing has placed the lead.
"""

from __future__ import annotations

from django.urls import reverse

from accounts.models import User
from qualify.leads.changes import AFTER_COMMIT, IN_TRANSACTION, LeadsMerged, OwnerChanged, listen
from qualify.leads.models import Lead

from . import clocks, notify
from .models import Clock, ClockStatus, Escalation, Notification, NotificationKind

listen("stage_changed", when=AFTER_COMMIT)(clocks.stages_changed)
listen("owner_changed", when=IN_TRANSACTION)(clocks.owners_changed)
listen("touched", when=IN_TRANSACTION)(clocks.touched)
listen("handoff_changed", when=IN_TRANSACTION)(clocks.handoffs_changed)


@listen("owner_changed", when=IN_TRANSACTION)
def tell_new_owners(batch: list[OwnerChanged]) -> None:
    """A notification row for each new owner who did not take the lead themselves, in the change's
    transaction (it exists exactly when the change does; e-mail goes out from it after commit).
    Two queries for the batch, one INSERT."""
    told = [c for c in batch if c.to_id is not None and c.to_id != c.by_id and not c.imported]
    if not told:
        return
    users = User.objects.in_bulk({c.to_id for c in told} | {c.by_id for c in told if c.by_id})
    leads = Lead.objects.only("first_name", "last_name", "email").in_bulk([c.lead_id for c in told])
    rows = []
    for c in told:
        lead = leads.get(c.lead_id)
        if lead is None:
            continue
        by = users.get(c.by_id) if c.by_id else None
        source = f"by {by}" if by else (f"by rule '{c.rule_name}'" if c.rule_name else "by Qualify")
        rows.append(notify.make(
            users[c.to_id], kind=NotificationKind.ASSIGNED, title=f"Lead assigned to you: {lead.full_name}",
            body=f"{lead.full_name} was assigned to you {source}." + (f"\nWhy: {c.why}" if c.why else ""),
            url=reverse("leads:detail", args=[lead.pk]), lead_id=lead.pk,
        ))
    notify.save_all(rows)


@listen("leads_merged", when=IN_TRANSACTION)
def move_merged_clocks(batch: list[LeadsMerged]) -> None:
    """Clocks, escalations and notifications of the merged lead move to the survivor. One clock
    of a kind runs per lead: where both ran one, the merged lead's is cancelled (its history stays)."""
    for change in batch:
        both = set(Clock.objects.filter(lead_id=change.survivor_id, status=ClockStatus.OPEN).values_list("kind", flat=True))
        if both:
            clocks.cancel_clocks(change.merged_id, both, note=f"Merged into lead #{change.survivor_id}", by_id=change.by_id)
        Clock.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)
        Escalation.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)
        Notification.objects.filter(lead_id=change.merged_id).update(lead_id=change.survivor_id)
