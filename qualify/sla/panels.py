"""What the SLA concept contributes to the queue rows, the lead page and the handoff inbox.

Registered in qualify.leads.panels (QUEUE_ROW_DECORATORS, LEAD_PAGE_CONTEXT). Each costs a fixed
number of queries per page, never one per row.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.html import format_html_join

from qualify.formatting import fastdate

from .models import Clock, ClockStatus, Escalation
from .templatetags.sla_tags import clock_label, countdown, sla_state

if TYPE_CHECKING:
    from accounts.models import User
    from qualify.leads.models import Lead


def decorate_queue_rows(leads: list[Lead], user: User) -> None:
    """`lead.sla_clocks_open`, the running clocks of each row (soonest due first), and
    `lead.sla_badges`, their badges as HTML. One query. Built here rather than by a template loop:
    with a clock on every row (the SLA filters and sort) the loop's filters and date formats cost
    about 9 ms a 50-row page."""
    by_lead: dict[int, list[Clock]] = defaultdict(list)
    clocks = (Clock.objects.filter(lead_id__in=[lead.pk for lead in leads], status=ClockStatus.OPEN)
              .only("lead_id", "kind", "status", "warn_at", "due_at", "breached_at", "closed_at").order_by("due_at"))
    for clock in clocks:
        by_lead[clock.lead_id].append(clock)
    now = timezone.now()
    zone = timezone.get_current_timezone()
    for lead in leads:
        lead.sla_clocks_open = by_lead.get(lead.pk, [])
        lead.sla_badges = format_html_join("", '<span class="badge sla-badge sla-{}" title="{}: due {} {}">{} {}</span> ', (
            (sla_state(c, now), c.get_kind_display(), fastdate(c.due_at.astimezone(zone), "DATETIME_FORMAT"),
             c.due_at.astimezone(zone).tzname(), clock_label(c), countdown(c, now)) for c in lead.sla_clocks_open))


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
