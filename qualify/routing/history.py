"""The record of every change of owner, and of every routing decision (Assignment rows).

The lead core publishes each owner change (qualify.leads.assignment: claim, assign, assign_many);
`owners_changed` writes its Assignment rows inside the same transaction, so every path that changes
an owner (routing, a manager's reassign, an SLA escalation, a claim, an accepted handoff, the API,
admin) leaves the same trail. Routing also records decisions that changed nothing (`record`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils import timezone

from qualify.leads.changes import IN_TRANSACTION, OwnerChanged, listen

from .models import Assignment

if TYPE_CHECKING:
    from accounts.models import User

    from .models import RoutingRule


def _record_row(lead_id: int, from_id: int | None, to_id: int | None, *, by: User | None,
                rule: RoutingRule | None = None, why: str = "") -> Assignment:
    return Assignment(
        lead_id=lead_id, from_user_id=from_id, to_user_id=to_id, rule=rule, rule_name=rule.name if rule else "",
        by=by, why=why[:300],
    )


def record(lead_id: int, from_id: int | None, to_id: int | None, *, by: User | None, rule: RoutingRule | None = None,
           why: str = "") -> Assignment:
    """One Assignment row for a routing decision. One query."""
    row = _record_row(lead_id, from_id, to_id, by=by, rule=rule, why=why)
    row.save()
    return row


@listen("owner_changed", when=IN_TRANSACTION)
def owners_changed(batch: list[OwnerChanged]) -> None:
    """An Assignment row per owner change, in the change's transaction, dated when it happened
    (`at`: history written after the fact) or now. One INSERT for the batch."""
    now = timezone.now()
    Assignment.objects.bulk_create(
        Assignment(lead_id=c.lead_id, from_user_id=c.from_id, to_user_id=c.to_id, rule_id=c.rule_id,
                   rule_name=c.rule_name, by_id=c.by_id, why=c.why[:300], at=c.at or now)
        for c in batch
    )
