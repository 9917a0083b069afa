"""Countdown badges for SLA clocks: `{% load sla_tags %}`."""

from __future__ import annotations

from django import template
from django.utils import timezone

from qualify.formatting import humanize_duration
from qualify.sla.models import Clock, ClockStatus

register = template.Library()




@register.filter
def sla_state(clock: Clock, now=None) -> str:
    """ok, warn, breach, met, late or cancelled: drives the badge's colour."""
    if clock.status != ClockStatus.OPEN:
        return clock.status
    now = now or timezone.now()
    if clock.breached_at or clock.due_at <= now:
        return "breach"
    if clock.warn_at <= now:
        return "warn"
    return "ok"


@register.filter
def countdown(clock: Clock, now=None) -> str:
    """'due in 45 min', 'overdue 1 h 5 min', or how the clock ended."""
    if clock.status == ClockStatus.MET:
        return "met"
    if clock.status == ClockStatus.LATE:
        return f"met {humanize_duration(clock.closed_at - clock.due_at)} late"
    if clock.status == ClockStatus.CANCELLED:
        return "no longer applies"
    remaining = clock.due_at - (now or timezone.now())
    if remaining.total_seconds() <= 0:
        return f"overdue {humanize_duration(-remaining)}"
    return f"due in {humanize_duration(remaining)}"


@register.filter
def clock_label(clock: Clock) -> str:
    return {"mql_first_touch": "First touch", "recycled_touch": "Touch again", "handoff_decision": "Decision"}.get(
        clock.kind, clock.get_kind_display()
    )


@register.simple_tag(takes_context=True)
def handoff_clock(context, handoff) -> Clock | None:
    """The SLA clock of `handoff`. Loads the clocks of every packet on the page in one query the
    first time it is asked (the inbox's `pending` list), then answers from that."""
    request = context.get("request")
    cache = getattr(request, "_sla_handoff_clocks", None) if request is not None else None
    if cache is None or handoff.pk not in cache:
        from qualify.sla.panels import handoff_clocks

        ids = {handoff.pk} | {h.pk for h in context.get("pending") or []}
        cache = {**(cache or {}), **{i: None for i in ids}, **handoff_clocks(list(ids))}
        if request is not None:
            request._sla_handoff_clocks = cache
    return cache.get(handoff.pk)
