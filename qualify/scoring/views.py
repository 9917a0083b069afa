"""Score breakdowns on the lead page and in the queue, and the recompute progress partial."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from qualify.leads.access import access_lead
from qualify.leads.models import Lead

from .explain import explain
from .models import ScoreRun
from .ranking import engagement_now, score_now


def lead_score_context(lead: Lead, user) -> dict[str, Any]:
    """LEAD_PAGE_CONTEXT entry: the breakdown (2 queries) and recent score history (1 query)."""
    from .runs import active_run

    run = active_run()
    return {
        "score_explanation": explain(lead),
        "score_now": score_now(lead),
        "score_history": list(lead.score_snapshots.exclude(kind="daily").select_related("version")[:5]),
        "score_run": run if run and lead.score_version_id != run.version_id else None,
    }


def decorate_queue_scores(leads: list[Lead], user) -> None:
    """QUEUE_ROW_DECORATORS entry: fit/engagement split for the hover title, and the breakdown's
    URL from a pattern reversed once per page (`{% url %}` twice a row cost ~4 % of the page).
    No queries."""
    now = timezone.now()
    pattern = reverse("scoring:breakdown", args=[987654321]).replace("987654321", "{}")
    for lead in leads:
        lead.breakdown_url = pattern.format(lead.pk)
        lead.score_display = score_now(lead, now)
        lead.score_fit_now = round(lead.score_fit)
        lead.score_engagement_now = round(engagement_now(lead, now))


@login_required
def breakdown(request: HttpRequest, lead_id: int) -> HttpResponse:
    """The queue row's expandable 'why' (htmx), or the same as a page without JavaScript."""
    lead = access_lead(request.user, lead_id)
    template = "scoring/_lines.html" if request.htmx else "scoring/breakdown.html"
    return render(request, template, {"lead": lead, "ex": explain(lead)})


@login_required
def run_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The admin progress bar, polled by htmx while the run is active. Staff only: anyone else
    signed in is refused (403) rather than sent to the admin's sign-in page."""
    if not request.user.is_staff:
        raise PermissionDenied("Scoring runs are for RevOps.")
    run = get_object_or_404(ScoreRun.objects.select_related("version"), pk=run_id)
    return render(request, "scoring/run_progress.html", {"run": run})
