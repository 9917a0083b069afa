"""A manager's reassign action (lead page, breaches page) and the lead page's assignment card."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from qualify.errors import DomainError
from qualify.leads.access import access_lead
from qualify.redirects import safe_next

from qualify.leads.assignment import can_reassign, eligible_owners

from .engine import reassign


def lead_routing_context(lead, user) -> dict:
    """Reassign choices for managers, and the last assignments. Two queries (one for non-managers)."""
    allowed = can_reassign(user, lead)
    return {
        "can_reassign": allowed,
        "reassign_owners": list(eligible_owners(lead.team_id)) if allowed else [],
        "assignments": list(lead.assignments.select_related("from_user", "to_user", "by")[:5]),
    }


def parse_target(lead, target: str):
    """'route', 'pool' or a user id (one of the team's reps) → (mode, user)."""
    if target in ("route", "pool"):
        return target, None
    try:
        user_id = int(target)
    except (TypeError, ValueError):
        raise DomainError("Choose who gets the lead.", field="to")
    user = eligible_owners(lead.team_id).filter(pk=user_id).first()
    if user is None:
        raise DomainError("That person is not a rep on this lead's team.", field="to")
    return "user", user


@login_required
@require_POST
def reassign_view(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = access_lead(request.user, lead_id, for_write=True)
    if not can_reassign(request.user, lead):
        raise PermissionDenied("Only the team's managers can reassign leads.")
    back = safe_next(request, reverse("leads:detail", args=[lead.pk]))
    try:
        mode, to = parse_target(lead, request.POST.get("target", ""))
        result = reassign(lead, by=request.user, mode=mode, to=to, why=request.POST.get("why", ""))
    except DomainError as e:
        messages.error(request, e.message)
        return HttpResponseRedirect(back)
    lead.refresh_from_db()
    if result.changed:
        messages.success(request, f"{lead.full_name} now belongs to {lead.owner or 'the team pool'}.")
    else:
        messages.error(request, f"Routing found nobody else for {lead.full_name}: {result.why}")
    return HttpResponseRedirect(back)
