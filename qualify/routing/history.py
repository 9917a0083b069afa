"""What happens when a lead's owner changes: the Assignment record, SLA clocks, a notification.

leads.assignment (assign, claim) calls `ownership_changed` inside its transaction, so every path
that changes an owner (routing, a manager's reassign, an SLA escalation, a claim, the API) leaves
the same trail.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.urls import reverse

from .models import Assignment

if TYPE_CHECKING:
    from accounts.models import User
    from qualify.leads.models import Lead

    from .models import RoutingRule


def record(lead_id: int, from_id: int | None, to_id: int | None, *, by: User | None, rule: RoutingRule | None = None,
           why: str = "") -> Assignment:
    return Assignment.objects.create(
        lead_id=lead_id, from_user_id=from_id, to_user_id=to_id, rule=rule, rule_name=rule.name if rule else "",
        by=by, why=why[:300],
    )


def ownership_changed(lead: Lead, from_id: int | None, owner: User | None, *, by: User | None,
                      rule: RoutingRule | None = None, why: str = "") -> None:
    """Record the change, let SLA clocks follow it, and tell the new owner (unless they took it).

    `lead` is the caller's instance (team, stage, account as the caller last saw them); the row is
    locked by the caller. Costs three or four queries."""
    from qualify.sla import notify
    from qualify.sla.clocks import owner_changed
    from qualify.sla.models import NotificationKind

    to_id = owner.pk if owner else None
    record(lead.pk, from_id, to_id, by=by, rule=rule, why=why)
    owner_changed(lead.pk, from_id, to_id, by_id=by.pk if by else None, lead=lead)
    if owner is not None and (by is None or by.pk != owner.pk):
        source = f"by {by}" if by else (f"by rule '{rule.name}'" if rule else "by Qualify")
        notify.save_all([
            notify.make(
                owner, kind=NotificationKind.ASSIGNED, title=f"Lead assigned to you: {lead.full_name}",
                body=f"{lead.full_name} was assigned to you {source}." + (f"\nWhy: {why}" if why else ""),
                url=reverse("leads:detail", args=[lead.pk]), lead_id=lead.pk,
            )
        ])
