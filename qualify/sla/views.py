"""The manager's page of breaches and escalations."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.models import User
from qualify.exports import csv_response
from qualify.leads.assignment import eligible_owners

from .access import managed_team, managed_teams
from .models import Clock, ClockKind, ClockStatus, Escalation, StepKind


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
        .values("owner_id", "owner__first_name", "owner__last_name", "owner__username", "kind")
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
        # Named as on the rest of the page: the owner's full name, the clock kind's label.
        row["owner"] = User(first_name=row["owner__first_name"], last_name=row["owner__last_name"],
                            username=row["owner__username"]) if row["owner_id"] else None
        row["kind_label"] = ClockKind(row["kind"]).label
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
