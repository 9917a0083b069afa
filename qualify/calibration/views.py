"""The calibration page, its drill-down lists, and accepting a suggestion into a draft."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from qualify.errors import DomainError

from . import figures
from .access import Request, check_can_accept, read_request
from .service import accept_by_key, drill_params, suggestion_states


def _query(req: Request) -> str:
    parts = [f"model={req.scope.model.pk}", f"days={req.scope.days}"]
    if req.team:
        parts.append(f"team={req.team.pk}")
    return "&".join(parts)


def _bad(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(request, "errors/bad_input.html", {"title": "Calibration", "message": exc.message}, status=400)


@login_required
@require_GET
def report(request: HttpRequest) -> HttpResponse:
    """Conversion by score band, per rule and per disqualify reason, the threshold table and the
    suggestions, for the model and window asked for, over the user's teams' closed leads."""
    try:
        req = read_request(request.user, request.GET)
    except DomainError as exc:
        return _bad(request, exc)
    result = figures.compute(req.scope)
    return render(request, "calibration/report.html", {
        "req": req, "r": result, "query": _query(req), "states": suggestion_states(result),
        "can_accept": request.user.is_admin,
    })


@login_required
@require_GET
def leads(request: HttpRequest) -> HttpResponse:
    """The closed leads behind one figure: ?band=low-high, ?rule=id, ?reason=id, ?outcome=."""
    try:
        req = read_request(request.user, request.GET)
        what = drill_params(request.GET)
    except DomainError as exc:
        return _bad(request, exc)
    rows, total = figures.drill_down(req.scope, **what)
    return render(request, "calibration/leads.html", {
        "req": req, "rows": rows, "total": total, "query": _query(req), "what": what,
        "limit": figures.DRILL_LIMIT,
    })


@login_required
@require_POST
def accept(request: HttpRequest) -> HttpResponse:
    """Put one suggestion (by its key, recomputed from today's figures) into the model's draft."""
    check_can_accept(request.user)
    try:
        req = read_request(request.user, request.POST)
        record = accept_by_key(req, request.POST.get("key", ""), by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"In the draft of {req.scope.model}: {record.headline}. Publish the draft in admin to apply it to leads."
        )
    try:
        back = _query(read_request(request.user, request.POST))
    except DomainError:
        back = ""
    return HttpResponseRedirect(f"{reverse('calibration:report')}?{back}")
