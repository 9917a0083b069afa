"""Routing work that runs outside a request."""

from __future__ import annotations

import pghistory
from celery import shared_task

from qualify.leads.models import Lead, Stage

from .engine import route_new_mqls


@shared_task(name="routing.route_unowned_mqls")
def route_unowned_mqls(lead_ids: list[int]) -> int:
    """Route the given leads that are still unowned MQLs (e.g. after a bulk import). Idempotent:
    a lead routed meanwhile has an owner and is skipped. Returns how many got an owner."""
    with pghistory.context(source="task:routing.route_unowned_mqls"):
        ids = list(Lead.objects.filter(pk__in=lead_ids, stage=Stage.MQL, owner__isnull=True).values_list("pk", flat=True))
        return route_new_mqls(ids) if ids else 0
