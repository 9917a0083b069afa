"""Notifications (page, badge, mark read) and the manager's page of breaches and escalations."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from qualify.exports import csv_response
from qualify.leads.assignment import eligible_owners

from . import notify
from .access import access_notification, managed_team, managed_teams, own_notifications
from .models import Clock, ClockStatus, Escalation, Notification, StepKind

PAGE = 50


# --- notifications -------------------------------------------------------------------------------


def _page(request: HttpRequest):
    qs = own_notifications(request.user).select_related("lead")
    unread_only = request.GET.get("unread") == "1"
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    try:
        before = int(request.GET.get("before", ""))
    except ValueError:
        before = None
    if before:
        qs = qs.filter(pk__lt=before)
    # Ordered by id (creation order): keyset pages, no OFFSET, no COUNT over the whole list.
    rows = list(qs.order_by("-id")[: PAGE + 1])
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    return rows, (rows[-1].pk if more else None), unread_only


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    rows, next_before, unread_only = _page(request)
    context = {"notes": rows, "next_before": next_before, "unread_only": unread_only,
               "unread": notify.unread_count(request.user)}
    if request.htmx and request.GET.get("before"):
        return render(request, "sla/notifications.html#more", context)
    return render(request, "sla/notifications.html", context)


def _own(request: HttpRequest, notification_id: int) -> Notification:
    return access_notification(request.user, notification_id)


@login_required
@require_POST
def mark_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    note = _own(request, notification_id)
    notify.mark_read(Notification.objects.filter(pk=note.pk))
    note = Notification.objects.select_related("lead").get(pk=note.pk)
    if request.htmx:
        response = render(request, "sla/notifications.html#note", {"n": note})
        response["HX-Trigger"] = "notifications-changed"
        return response
    return HttpResponseRedirect(reverse("sla:notifications"))


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notify.mark_read(own_notifications(request.user))
    return HttpResponseRedirect(reverse("sla:notifications"))


@login_required
def open_notification(request: HttpRequest, notification_id: int) -> HttpResponse:
    """Follow a notification's link, marking it read on the way."""
    note = _own(request, notification_id)
    notify.mark_read(Notification.objects.filter(pk=note.pk))
    target = note.url if url_has_allowed_host_and_scheme(note.url, allowed_hosts=None) and note.url else reverse("sla:notifications")
    return HttpResponseRedirect(target)


@login_required
def badge(request: HttpRequest) -> HttpResponse:
    """The unread count in the navigation, polled by htmx. One COUNT on a partial index."""
    return render(request, "sla/_badge.html", {"unread": notify.unread_count(request.user)})


# --- manager page --------------------------------------------------------------------------------



@login_required
def breaches(request: HttpRequest) -> HttpResponse:
    """Overdue clocks now, escalations lately and compliance by owner, for the manager's teams."""
    teams = list(managed_teams(request.user))
    team_ids = [t.pk for t in teams]
    if request.GET.get("team"):
        team_ids = [managed_team(request.user, request.GET["team"]).pk]
    try:
        days = max(1, min(int(request.GET.get("days", 7)), 90))
    except ValueError:
        days = 7
    now = timezone.now()
    since = now - datetime.timedelta(days=days)
    kind = request.GET.get("kind", "")
    kinds = [k for k in StepKind.values if k != StepKind.WARNING] if kind not in StepKind.values else [kind]

    overdue = list(
        Clock.objects.filter(team_id__in=team_ids, status=ClockStatus.OPEN, due_at__lte=now)
        .select_related("lead__account", "owner", "policy", "team").order_by("due_at")[:200]
    )
    escalations = list(
        Escalation.objects.filter(team_id__in=team_ids, at__gte=since, kind__in=kinds)
        .select_related("lead", "owner", "clock").order_by("-at", "-id")[:300]
    )
    if request.GET.get("export") == "csv":
        return _csv(escalations, days)
    compliance = list(
        Clock.objects.filter(team_id__in=team_ids, started_at__gte=since)
        .exclude(status=ClockStatus.CANCELLED)
        .values("owner__first_name", "owner__username", "kind")
        .annotate(
            total=Count("id"),
            met=Count("id", filter=Q(status=ClockStatus.MET)),
            late=Count("id", filter=Q(status=ClockStatus.LATE)),
            breached=Count("id", filter=Q(breached_at__isnull=False)),
            running=Count("id", filter=Q(status=ClockStatus.OPEN)),
        )
        .order_by("owner__first_name", "owner__username", "kind")
    )
    for row in compliance:
        decided = row["met"] + row["late"]
        row["rate"] = round(100 * row["met"] / decided) if decided else None
    owners_by_team = {t: list(eligible_owners(t)) for t in {c.team_id for c in overdue}}
    for clock in overdue:
        clock.reassign_to = owners_by_team.get(clock.team_id, [])
    return render(
        request,
        "sla/breaches.html",
        {"teams": teams, "team_ids": team_ids, "days": days, "kind": kind, "kinds": StepKind.choices,
         "overdue": overdue, "escalations": escalations, "compliance": compliance, "now": now},
    )


def _csv(escalations: list[Escalation], days: int) -> HttpResponse:
    return csv_response(
        f"sla-escalations-{days}d.csv", ["at", "kind", "lead_id", "lead", "owner", "scheduled_at", "detail"],
        ([e.at.isoformat(), e.kind, e.lead_id, e.lead.full_name, e.owner or "", e.scheduled_at.isoformat(), e.detail]
         for e in escalations),
    )
