"""Routing work that runs outside a request."""

from __future__ import annotations

import pghistory
from celery import shared_task

from qualify.leads.models import Lead, Stage

from .engine import route_new_mql


@shared_task(name="routing.route_unowned_mqls")
def route_unowned_mqls(lead_ids: list[int]) -> int:
    """Route the given leads that are still unowned MQLs (e.g. after a bulk import). Idempotent:
    a lead routed meanwhile has an owner and is skipped. Returns how many got an owner."""
    routed = 0
    with pghistory.context(source="task:routing.route_unowned_mqls"):
        for lead in Lead.objects.filter(pk__in=lead_ids, stage=Stage.MQL, owner__isnull=True).select_related("account"):
            routed += route_new_mql(lead)
    return routed
