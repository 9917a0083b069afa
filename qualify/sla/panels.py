"""What the SLA concept contributes to the queue rows, the lead page and the handoff inbox.

Registered in qualify.leads.panels (QUEUE_ROW_DECORATORS, LEAD_PAGE_CONTEXT). Each costs a fixed
number of queries per page, never one per row.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from html import escape
from typing import TYPE_CHECKING, NamedTuple

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.safestring import SafeString

from qualify.formatting import fastdate

from .models import Clock, ClockKind, ClockStatus, Escalation
from .templatetags.sla_tags import clock_label, countdown, sla_state

if TYPE_CHECKING:
    from accounts.models import User
    from qualify.leads.models import Lead


def decorate_queue_rows(leads: list[Lead], user: User) -> None:
    """`lead.sla_badges`: the badges of each row's running clocks as HTML, soonest due first.
    One query, read as tuples: on the SLA filters and sort every row has a clock, and Clock
    instances with format_html_join took about 1.2 ms more a 50-row page
    (bench/probes/sla_badges.py)."""
    by_lead: dict[int, list[RunningClock]] = defaultdict(list)
    rows = (Clock.objects.filter(lead_id__in=[lead.pk for lead in leads], status=ClockStatus.OPEN)
            .order_by("due_at").values_list("lead_id", "kind", "warn_at", "due_at", "breached_at"))
    for lead_id, kind, warn_at, due_at, breached_at in rows:
        by_lead[lead_id].append(RunningClock(kind, warn_at, due_at, breached_at))
    now = timezone.now()
    zone = timezone.get_current_timezone()
    for lead in leads:
        lead.sla_badges = SafeString("".join(_badge(c, now, zone) for c in by_lead.get(lead.pk, ())))


class RunningClock(NamedTuple):
    """What a queue row shows of a running clock; sla_state, countdown and clock_label read it as
    they read a Clock."""

    kind: str
    warn_at: datetime.datetime
    due_at: datetime.datetime
    breached_at: datetime.datetime | None
    status: str = ClockStatus.OPEN
    closed_at: None = None

    def get_kind_display(self) -> str:
        return str(_KIND_LABELS.get(self.kind, self.kind))


def _badge(clock: RunningClock, now, zone) -> str:
    """One running clock's badge. Every part is escaped, though all of them are Qualify's own
    words today (ClockKind's labels, dates, durations): `html.escape` is what Django's escape
    calls, so the markup is what format_html wrote, byte for byte."""
    due = clock.due_at.astimezone(zone)
    return (f'<span class="badge sla-badge sla-{escape(sla_state(clock, now))}" title="{escape(clock.get_kind_display())}: '
            f'due {escape(fastdate(due, "DATETIME_FORMAT"))} {escape(due.tzname())}">{escape(clock_label(clock))} '
            f'{escape(countdown(clock, now))}</span> ')


_KIND_LABELS = dict(ClockKind.choices)


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
