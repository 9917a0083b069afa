"""SDR queue and lead page. Thin views: access helper, domain function, response."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.models import Role, Team, User
from qualify.errors import DomainError, form_error_message
from qualify.redirects import safe_next

from . import bulk, lifecycle
from .access import access_lead, can_change_account, can_change_lead
from .assignment import OWNER_ROLES
from .assignment import claim as claim_lead
from .forms import BulkForm, MoveForm, ReasonForm, TouchForm
from .models import DisqualifyReason, Lead, SavedView, Segment, Source, Stage, TouchKind, TouchOutcome
from .panels import decorate_queue_rows, lead_page_context
from .queue import QueuePage, load_queue, queue_scopes
from .saved_views import access_view, clean_query, delete_view, save_view, saved_views_for
from .timeline import timeline_for
from .touches import log_touch


def _reps(user) -> list:
    """The people whose leads a manager (or admin) may filter on and reassign to: the owners
    eligible on the teams they manage. Empty for everyone else, who sees no rep filter."""
    team_ids = user.team_ids(Role.MANAGER) if not user.is_admin else list(Team.objects.values_list("pk", flat=True))
    if not team_ids:
        return []
    return list(
        User.objects.filter(is_active=True, memberships__team_id__in=team_ids, memberships__role__in=OWNER_ROLES)
        .distinct().order_by("first_name", "username")
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """My queue: the leads to work, sorted by any column, keyset-paginated so deep pages stay fast."""
    # "Load more" (htmx) appends rows under a total already shown: no need to count again.
    page: QueuePage = load_queue(request.user, request.GET, count=not (request.htmx and request.GET.get("after")))
    decorate_queue_rows(page.leads, request.user)
    reps = _reps(request.user)
    context = {
        "page": page,
        "scopes": queue_scopes(request.user),
        "stages": Stage.choices,
        "sources": Source.choices,
        "segments": Segment.choices,
        "reps": reps,
        "rep_filter": request.GET.get("owner", ""),
        "bulk_actions": [(k, v) for k, v in bulk.ACTIONS.items() if k != "reassign" or reps],
        "reasons": DisqualifyReason.objects.filter(active=True).order_by("name"),
        "saved_views": saved_views_for(request.user),
        **_row_context(request),
    }
    if request.htmx and request.GET.get("after"):
        return render(request, "leads/queue.html#more-rows", context)
    if request.htmx and request.htmx.target == "queue-results":
        return render(request, "leads/queue.html#results", context)
    return render(request, "leads/queue.html", context)


@login_required
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """The bulk bar: one action on the selected rows through the same verbs, each row judged on
    its own; the page then says what was done and, row by row, what was refused and why."""
    back = safe_next(request, reverse("leads:queue"))
    form = BulkForm(request.POST, max_rows=bulk.MAX_ROWS)
    if not form.is_valid():
        messages.error(request, form_error_message(form))
        return HttpResponseRedirect(back)
    data = form.cleaned_data
    owner = None
    if data["action"] == "reassign":
        owner = next((u for u in _reps(request.user) if u.pk == data["owner"]), None)
        if owner is None:
            messages.error(request, NOT_AN_OWNER)
            return HttpResponseRedirect(back)
    result = bulk.apply(data["ids"], action=data["action"], by=request.user, owner=owner,
                        reason=data.get("reason"), note=data.get("note", ""))
    if result.done:
        messages.success(request, result.summary())
    for _pk, who, why in result.refused:
        messages.error(request, f"{who}: {why}")
    return HttpResponseRedirect(back)


NOT_AN_OWNER = "Choose an active SDR, AE or manager of a team you manage."


@login_required
def detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = access_lead(request.user, lead_id)
    if lead.pk != lead_id:  # merged into another lead: its page lives at the survivor's URL now
        return HttpResponseRedirect(lead.get_absolute_url(), status=301)
    return render(request, "leads/detail.html", detail_context(request, lead))


def detail_context(request: HttpRequest, lead: Lead, **extra) -> dict:
    """Everything the lead page shows; `extra` carries a refused form back as typed (touch,
    nurture, disqualify, and the hand-off form of qualify/handoff/views.py)."""
    context = {
        "lead": lead,
        "can_change": can_change_lead(request.user, lead),
        "can_change_account": can_change_account(request.user, lead.account),
        "timeline": timeline_for(lead),
        "touch_form": TouchForm(),
        "nurture_form": ReasonForm(kind="nurture"),
        "disqualify_form": ReasonForm(kind="disqualify"),
        "next_stages": [(s, Stage(s).label) for s in lifecycle.manual_next(lead.stage)],
        "is_pool": lead.owner_id is None and lead.team_id in request.user.team_ids(Role.SDR, Role.MANAGER),
    }
    context.update(lead_page_context(lead, request.user))
    context.update(extra)
    return context


def _row_context(request: HttpRequest, posted: dict | None = None) -> dict:
    """What every queue row needs, computed once per page rather than once per row."""
    here = safe_next(request, reverse("leads:queue")) if request.method == "POST" else request.get_full_path()
    posted = posted or {}
    return {
        "here": here,
        "touch_kind_options": _options(TouchKind, posted.get("kind", "")),
        "touch_outcome_options": _options(TouchOutcome, posted.get("outcome", "")),
    }


def _options(choices, selected: str = "") -> str:
    """<option> tags for a choice set, built once per page: looping them in every row's template
    was the largest part of the queue's render time. `selected`: what a refused row had chosen."""
    return format_html_join(
        "", '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if value == selected else "", label) for value, label in choices.choices),
    )


def _row_response(
    request: HttpRequest, lead: Lead, *, error: str = "", flash: str = "", posted: dict | None = None
) -> HttpResponse:
    """htmx: re-render the queue row in place (a refused touch keeps what was typed, in `posted`).
    Otherwise: back to where the user came from."""
    if request.htmx:
        lead = access_lead(request.user, lead.pk)
        decorate_queue_rows([lead], request.user)
        response = render(
            request,
            "leads/queue.html#row",
            {"lead": lead, "row_error": error, "row_flash": flash, "row_posted": posted or {}, **_row_context(request, posted)},
        )
        return response
    if error:
        messages.error(request, error)
    elif flash:
        messages.success(request, flash)
    return HttpResponseRedirect(safe_next(request, reverse("leads:detail", args=[lead.pk])))


@login_required
@require_POST
def touch(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = access_lead(request.user, lead_id, for_write=True)
    form = TouchForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(form_error_message(form))
        t = log_touch(lead, by=request.user, **form.cleaned_data)
    except DomainError as e:
        if request.htmx:
            posted = {name: request.POST.get(name, "") for name in ("kind", "outcome", "note")}
            return _row_response(request, lead, error=e.message, posted=posted)
        # The form again, as typed, with what is wrong: a redirect would lose the note.
        context = detail_context(request, lead, touch_form=form, touch_error=e.message)
        return render(request, "leads/detail.html", context)
    return _row_response(request, lead, flash=f"Logged: {t}")


@login_required
@require_POST
def move(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = access_lead(request.user, lead_id, for_write=True)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _row_response(request, lead, error="Choose a stage.")
    to = form.cleaned_data["to"]
    try:
        if to not in lifecycle.manual_next(lead.stage) and to in lifecycle.ALLOWED[lead.stage]:
            raise DomainError(f"Use the {Stage(to).label if to in Stage.values else to} action for that.")
        lifecycle.move_stage(lead, to=to, by=request.user, expect=form.cleaned_data["expect"] or None)
    except DomainError as e:
        return _row_response(request, lead, error=e.message)
    return _row_response(request, lead, flash=f"Moved to {lead.get_stage_display()}")


@login_required
@require_POST
def claim(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = access_lead(request.user, lead_id, for_write=True)
    try:
        claim_lead(lead, by=request.user)
    except DomainError as e:
        return _row_response(request, lead, error=e.message)
    return _row_response(request, lead, flash="Claimed: it's yours now")


def _reason_action(request: HttpRequest, lead_id: int, kind: str) -> HttpResponse:
    lead = access_lead(request.user, lead_id, for_write=True)
    form = ReasonForm(request.POST, kind=kind)
    try:
        if not form.is_valid():
            raise DomainError(form_error_message(form))
        data = form.cleaned_data
        if kind == "nurture":
            lifecycle.nurture(lead, reason=data["reason"], note=data["note"], by=request.user, recycle_on=data.get("recycle_on"))
        else:
            lifecycle.disqualify(lead, reason=data["reason"], note=data["note"], by=request.user)
    except DomainError as e:
        if request.htmx:
            context = detail_context(request, lead, **{f"{kind}_form": form, f"{kind}_error": e.message})
            return render(request, "leads/detail.html#actions", context)
        messages.error(request, e.message)
        return HttpResponseRedirect(reverse("leads:detail", args=[lead.pk]))
    messages.success(request, f"{lead.full_name} moved to {lead.get_stage_display()}.")
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("leads:detail", args=[lead.pk])
        return response
    return HttpResponseRedirect(reverse("leads:detail", args=[lead.pk]))


@login_required
@require_POST
def nurture(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _reason_action(request, lead_id, "nurture")


@login_required
@require_POST
def disqualify(request: HttpRequest, lead_id: int) -> HttpResponse:
    return _reason_action(request, lead_id, "disqualify")


def _view_team(request: HttpRequest) -> int | None:
    """With "share" ticked: the team to share with, the user's managed team (the one named if several)."""
    if not request.POST.get("share"):
        return None
    try:
        return int(request.POST.get("team") or next(iter(sorted(request.user.team_ids(Role.MANAGER)))))
    except (StopIteration, ValueError):
        raise DomainError("Only a manager of the team can share a view with it.")


@login_required
@require_POST
def view_create(request: HttpRequest) -> HttpResponse:
    """Save the queue's current filters and sort under a name (query string in `query`)."""
    params = QueryDict(request.POST.get("query", ""))
    try:
        view = save_view(request.user, name=request.POST.get("name", ""), params=params, team_id=_view_team(request))
    except DomainError as e:
        messages.error(request, e.message)
        return HttpResponseRedirect(reverse("leads:queue") + "?" + clean_query(params))
    messages.success(request, f"Saved the view “{view.name}”{' for the team' if view.team_id else ''}.")
    return HttpResponseRedirect(reverse("leads:queue") + "?" + view.query)


@login_required
@require_POST
def view_update(request: HttpRequest, view_id: int) -> HttpResponse:
    """Rename a view, or point it at the current filters (`query`), keeping where it is shared."""
    view = access_view(request.user, view_id, for_write=True)
    try:
        params = QueryDict(request.POST["query"]) if "query" in request.POST else QueryDict(view.query)
        save_view(request.user, name=request.POST.get("name", view.name), params=params, team_id=view.team_id, view=view)
    except DomainError as e:
        messages.error(request, e.message)
        return HttpResponseRedirect(reverse("leads:queue") + "?" + SavedView.objects.get(pk=view_id).query)
    messages.success(request, f"Updated the view “{view.name}”.")
    return HttpResponseRedirect(reverse("leads:queue") + "?" + view.query)


@login_required
@require_POST
def view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    view = access_view(request.user, view_id, for_write=True)
    delete_view(view)
    messages.success(request, f"Deleted the view “{view.name}”.")
    return HttpResponseRedirect(reverse("leads:queue"))
