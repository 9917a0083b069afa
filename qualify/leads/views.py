"""SDR queue and lead page. Thin views: access helper, domain function, response."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html_join
from django.views.decorators.http import require_POST

from accounts.models import Role
from qualify.errors import DomainError, form_error_message
from qualify.exports import csv_response
from qualify.redirects import safe_next

from . import lifecycle
from .properties import display as display_value
from .properties import FILTER_PREFIX, definitions, property_filter_fields, shown
from .access import access_lead, can_change_lead
from .assignment import claim as claim_lead
from .forms import MoveForm, ReasonForm, TouchForm
from .models import Lead, Segment, Source, Stage, TouchKind, TouchOutcome
from .panels import before_listing, decorate_queue_rows, lead_page_context
from .queue import QueuePage, without_blanks, load_queue, queue_queryset, queue_scopes
from .timeline import timeline_for
from .touches import log_touch


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """My queue: the leads to work, ranked by score, keyset-paginated so deep pages stay fast."""
    page: QueuePage = load_queue(request.user, request.GET)
    decorate_queue_rows(page.leads, request.user)
    context = {
        "page": page,
        # Inline only when the request filters by a property; otherwise loaded on opening (property_filters).
        "property_filters": property_filter_fields(request.GET) if any(k.startswith(FILTER_PREFIX) for k in request.GET) else None,
        "scopes": queue_scopes(request.user),
        "stages": Stage.choices,
        "sources": Source.choices,
        "segments": Segment.choices,
        **_row_context(request),
    }
    if request.htmx and request.GET.get("after"):
        return render(request, "leads/queue.html#more-rows", context)
    if request.htmx and request.htmx.target == "queue-results":
        return render(request, "leads/queue.html#results", context)
    return render(request, "leads/queue.html", context)


# The export is for a filtered list, not a data dump: past this many rows, narrow the filters.
EXPORT_MAX_ROWS = 50_000
EXPORT_COLUMNS = ["id", "first_name", "last_name", "email", "phone", "title", "company", "stage", "score", "source",
                  "campaign", "owner", "external_id", "created_at"]


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The queue's leads as CSV, with the same scope and filters as the page (`prop.<key>` too), and
    a column per active lead property and account property (`account.<key>`). Read in chunks of
    2,000 (iterator), so memory stays flat up to EXPORT_MAX_ROWS."""
    before_listing()
    qs, _, filters = queue_queryset(request.user, without_blanks(request.GET))
    if filters.form.errors:
        return HttpResponse(form_error_message(filters.form), status=400, content_type="text/plain; charset=utf-8")
    defined = definitions()
    lead_props = [p for p in defined if p.entity == "lead"]
    account_props = [p for p in defined if p.entity == "account"]
    rows = (qs.select_related("account", "owner").order_by("-score", "-id")[:EXPORT_MAX_ROWS]).iterator(chunk_size=2000)

    def lines():
        for lead in rows:
            yield [
                lead.pk, lead.first_name, lead.last_name, lead.email, lead.phone, lead.title, lead.account.name,
                lead.stage, lead.score, lead.source, lead.campaign, lead.owner.username if lead.owner else "",
                lead.external_id, lead.created_at.isoformat(),
                *(display_value(p, lead.properties.get(p.key)) for p in lead_props),
                *(display_value(p, lead.account.properties.get(p.key)) for p in account_props),
            ]

    header = [*EXPORT_COLUMNS, *(p.key for p in lead_props), *(f"account.{p.key}" for p in account_props)]
    return csv_response("qualify-leads.csv", header, lines())


@login_required
def property_filters(request: HttpRequest) -> HttpResponse:
    """The queue's property filter inputs, fetched when the Properties section is opened."""
    return render(request, "leads/property_filters.html", {"property_filters": property_filter_fields(request.GET)})


@login_required
def detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    lead = access_lead(request.user, lead_id)
    if lead.pk != lead_id:  # merged into another lead: its page lives at the survivor's URL now
        return HttpResponseRedirect(lead.get_absolute_url(), status=301)
    return render(request, "leads/detail.html", _detail_context(request, lead))


def _detail_context(request: HttpRequest, lead: Lead, **extra) -> dict:
    context = {
        "lead": lead,
        "can_change": can_change_lead(request.user, lead),
        "timeline": timeline_for(lead),
        "touch_form": TouchForm(),
        "nurture_form": ReasonForm(kind="nurture"),
        "disqualify_form": ReasonForm(kind="disqualify"),
        "next_stages": [(s, Stage(s).label) for s in lifecycle.manual_next(lead.stage)],
        "is_pool": lead.owner_id is None and lead.team_id in request.user.team_ids(Role.SDR, Role.MANAGER),
    }
    defined = definitions()
    context["lead_properties"] = shown("lead", lead.properties, defined)
    context["account_properties"] = shown("account", lead.account.properties, defined)
    context.update(lead_page_context(lead, request.user))
    context.update(extra)
    return context


def _row_context(request: HttpRequest) -> dict:
    """What every queue row needs, computed once per page rather than once per row."""
    here = safe_next(request, reverse("leads:queue")) if request.method == "POST" else request.get_full_path()
    return {"here": here, "touch_kind_options": _options(TouchKind), "touch_outcome_options": _options(TouchOutcome)}


def _options(choices) -> str:
    """<option> tags for a choice set, built once per page: looping them in every row's template
    was the largest part of the queue's render time."""
    return format_html_join("", '<option value="{}">{}</option>', choices.choices)


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
            {"lead": lead, "row_error": error, "row_flash": flash, "row_posted": posted or {}, **_row_context(request)},
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
            return _row_response(request, lead, error=e.message, posted={"note": request.POST.get("note", "")})
        # The form again, as typed, with what is wrong: a redirect would lose the note.
        context = _detail_context(request, lead, touch_form=form, touch_error=e.message)
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
            context = _detail_context(request, lead, **{f"{kind}_form": form, f"{kind}_error": e.message})
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
