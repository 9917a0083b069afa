"""The lead page's opportunity sub-stage and re-qualification panel, and its two forms."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from qualify.errors import DomainError
from qualify.ids import posted_id
from qualify.leads.access import access_lead, can_change_lead
from qualify.leads.models import Lead, Stage

from .models import LeadOpportunityStage, OpportunityStage, RequalStatus, Requalification
from .requalification import resolve
from .substages import move_opportunity_stage


def lead_requalify_context(lead: Lead, user) -> dict:
    """Lead-page panel (panels.LEAD_PAGE_CONTEXT): the opportunity's sub-stage and open
    re-qualification requests. 2-3 queries."""
    current = LeadOpportunityStage.objects.filter(lead=lead).select_related("stage").first()
    open_reqs = list(lead.requalifications.filter(status=RequalStatus.OPEN).select_related("checkpoint"))
    recent = list(lead.requalifications.exclude(status=RequalStatus.OPEN).order_by("-created_at")[:3])
    return {
        "requalify_panel": {
            "show": lead.stage == Stage.OPPORTUNITY or bool(open_reqs) or bool(recent),
            "is_opportunity": lead.stage == Stage.OPPORTUNITY,
            "current": current,
            "stages": list(OpportunityStage.objects.filter(active=True)) if lead.stage == Stage.OPPORTUNITY else [],
            "open": open_reqs,
            "recent": recent,
            "can_change": can_change_lead(user, lead),
        }
    }


@login_required
@require_POST
def opportunity_stage(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = access_lead(request.user, lead_id, for_write=True)
    stage = OpportunityStage.objects.filter(pk=posted_id(request.POST.get("stage")) or 0).first()
    try:
        if stage is None:
            raise DomainError("Choose a sub-stage.", field="stage")
        move_opportunity_stage(lead, to=stage, by=request.user)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"Moved to {stage}." + (" Re-confirm the qualification answers." if stage.checkpoint else ""))
    return HttpResponseRedirect(reverse("leads:detail", args=[lead.pk]))


@login_required
@require_POST
def resolve_requalification(request: HttpRequest, req_id: int) -> HttpResponse:
    try:
        req = Requalification.objects.select_related("lead").get(pk=int(req_id))
    except (Requalification.DoesNotExist, ValueError):
        raise Http404("No such re-qualification.")
    lead = access_lead(request.user, req.lead_id, for_write=True)
    try:
        resolve(req, by=request.user, note=request.POST.get("note", ""))
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, "Re-qualification recorded.")
    return HttpResponseRedirect(reverse("leads:detail", args=[lead.pk]))
