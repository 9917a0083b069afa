"""What the SLA concept contributes to the queue rows, the lead page and the handoff inbox.

Registered in qualify.leads.panels (QUEUE_ROW_DECORATORS, LEAD_PAGE_CONTEXT). Each costs a fixed
number of queries per page, never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from django.db.models import Prefetch

from .models import Clock, ClockStatus, Escalation

if TYPE_CHECKING:
    from accounts.models import User
    from qualify.leads.models import Lead


def decorate_queue_rows(leads: list[Lead], user: User) -> None:
    """`lead.sla_clocks_open`: the running clocks of each row, soonest due first. One query."""
    by_lead: dict[int, list[Clock]] = defaultdict(list)
    for clock in Clock.objects.filter(lead_id__in=[lead.pk for lead in leads], status=ClockStatus.OPEN).order_by("due_at"):
        by_lead[clock.lead_id].append(clock)
    for lead in leads:
        lead.sla_clocks_open = by_lead.get(lead.pk, [])


def lead_sla_context(lead: Lead, user: User) -> dict:
    """The lead's recent clocks with their escalations, for the lead page's SLA card. Three queries."""
    clocks = list(
        Clock.objects.filter(lead=lead).select_related("policy", "owner", "closed_by")
        .prefetch_related(Prefetch("escalations", queryset=Escalation.objects.order_by("step")))
        .order_by("-started_at", "-id")[:10]
    )
    return {"sla_clocks": clocks}


def handoff_clocks(handoff_ids: list[int]) -> dict[int, Clock]:
    """The newest clock of each handoff. One query."""
    found: dict[int, Clock] = {}
    for clock in Clock.objects.filter(handoff_id__in=handoff_ids).order_by("handoff_id", "-started_at"):
        found.setdefault(clock.handoff_id, clock)
    return found
