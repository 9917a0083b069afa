"""The answers panel on the lead page, and the published definition of "qualified"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch, prefetch_related_objects
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import Team
from qualify.errors import DomainError
from qualify.leads.access import access_lead, can_change_lead
from qualify.leads.models import DisqualifyReason, ReasonAction, Segment

from .answers import record_answer
from .completeness import completeness
from .models import AnswerStatus, AnswerType, Criterion
from .selection import frameworks_for_team, visible_criterion

if TYPE_CHECKING:
    from accounts.models import User
    from qualify.leads.models import Lead

PANEL_TEMPLATE = "frameworks/answers_panel.html"


def answers_panel_context(
    lead: Lead, user: User, *, error: DomainError | None = None, criterion_id: int | None = None,
    posted: dict[str, str] | None = None, saved_criterion_id: int | None = None,
) -> dict:
    """Context for `frameworks/answers_panel.html`, under one key so it never clashes with the
    page that includes it. `error`/`criterion_id`/`posted` re-show a refused answer next to its
    criterion; `saved_criterion_id` marks the one just saved. Costs the 3 queries of
    completeness() (`lead.account` loaded, as access_lead does)."""
    progress = completeness(lead)
    if criterion_id not in {item.criterion.pk for item in progress.items}:
        criterion_id = None  # not on this panel (another framework's, or retired): show the error on top
    return {
        "answers_panel": {
            "lead": lead,
            "completeness": progress,
            "can_answer": can_change_lead(user, lead),
            "statuses": AnswerStatus.choices,
            "types": AnswerType,
            "error": error,
            "error_criterion_id": criterion_id,
            "posted": posted or {},
            "saved_criterion_id": saved_criterion_id,
        }
    }


@login_required
@require_http_methods(["GET", "POST"])
def answers(request: HttpRequest, lead_id: int) -> HttpResponse:
    """GET: the panel alone. POST: record an answer, then re-render the panel (htmx) or go back to
    the lead page. A refused answer re-renders with the message, status 200 so htmx swaps it."""
    if request.method == "GET":
        lead = access_lead(request.user, lead_id)
        return render(request, PANEL_TEMPLATE, answers_panel_context(lead, request.user))

    lead = access_lead(request.user, lead_id, for_write=True)
    posted = {k: request.POST.get(k, "") for k in ("criterion", "status", "value", "evidence")}
    # Another team's criterion is as missing as an unknown id: "not part of the framework" would say it exists.
    criterion = visible_criterion(request.user, posted["criterion"])
    try:
        if criterion is None:
            raise DomainError("Choose a criterion to answer.", field="criterion")
        record_answer(
            lead, criterion=criterion, by=request.user,
            status=posted["status"], value=posted["value"], evidence=posted["evidence"],
        )
    except DomainError as error:
        if request.htmx:
            context = answers_panel_context(
                lead, request.user, error=error, criterion_id=criterion.pk if criterion else None, posted=posted
            )
            return render(request, PANEL_TEMPLATE, context)
        messages.error(request, error.message)
        return HttpResponseRedirect(_lead_url(lead.pk))

    if request.htmx:
        context = answers_panel_context(lead, request.user, saved_criterion_id=criterion.pk)
        response = render(request, PANEL_TEMPLATE, context)
        # Other parts of the lead page (the hand-off checklist) refresh themselves on this event.
        response["HX-Trigger"] = "answers-changed"
        return response
    messages.success(request, f"Answer recorded for {criterion.dimension}.")
    return HttpResponseRedirect(_lead_url(lead.pk))


def _lead_url(lead_id: int) -> str:
    try:
        return reverse("leads:detail", args=[lead_id])
    except NoReverseMatch:
        return f"/leads/{lead_id}/"


@login_required
@require_GET
def definition(request: HttpRequest) -> HttpResponse:
    """The one-page definition of "qualified", generated from the live criteria that apply to the
    chosen team. Users with several teams (and admins, who may pick any team) get a switch."""
    user = request.user
    teams = list(Team.objects.all() if user.is_admin else Team.objects.filter(pk__in=user.team_ids()))
    team = _chosen_team(request, teams)
    applying = frameworks_for_team(team.pk if team else None)
    prefetch_related_objects(
        [framework for framework, _ in applying],
        Prefetch("criteria", queryset=Criterion.objects.filter(active=True).order_by("position", "id"), to_attr="live"),
    )
    sections = [
        {
            "framework": framework,
            "segments": segments,
            "criteria": framework.live,
            "covers_all_segments": len(segments) == len(Segment.choices) + 1,
            "required": [c for c in framework.live if c.required_for_handoff],
            "total_weight": sum(c.weight for c in framework.live),
        }
        for framework, segments in applying
    ]
    reasons = DisqualifyReason.objects.filter(active=True)
    return render(
        request,
        "frameworks/definition.html",
        {
            "team": team,
            "teams": teams,
            "can_switch": len(teams) > 1,
            "sections": sections,
            "reasons": reasons,
            "reason_actions": ReasonAction,
        },
    )


def _chosen_team(request: HttpRequest, teams: list[Team]) -> Team | None:
    """The `?team=` the user may see, else their first team. Unknown ids fall back quietly: the
    page is the same public definition for everyone in that team, nothing to hide or refuse."""
    wanted = request.GET.get("team", "")
    by_id = {str(t.pk): t for t in teams}
    return by_id.get(wanted) or (teams[0] if teams else None)
