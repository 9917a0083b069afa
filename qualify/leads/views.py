"""SDR queue and lead page. Thin views: access helper, domain function, response."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import engines
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.models import Role, Team, User
from qualify.errors import DomainError, form_error_message
from qualify.exports import csv_response
from qualify.ids import posted_id
from qualify.redirects import safe_next

from . import bulk, lifecycle
from .access import access_account, access_lead, can_change_account, can_change_lead
from .assignment import eligible_owners
from .assignment import claim as claim_lead
from .forms import BulkForm, MoveForm, ReasonForm, TouchForm
from .models import NOTE_MAX_LENGTH, DisqualifyReason, Event, Lead, SavedView, Segment, Source, Stage, StageChange, Touch, TouchKind, TouchOutcome
from .panels import account_page_context, before_listing, decorate_queue_rows, lead_page_context
from .properties import FILTER_PREFIX, definitions, property_filter_fields, shown
from .properties import display as display_value
from .queue import QueuePage, load_queue, queue_queryset, queue_scopes, without_blanks
from .saved_views import access_view, can_change_view, clean_query, delete_view, save_view, saved_views_for
from .timeline import Entry, timeline_for
from .touches import log_touch


def _rep_teams(user) -> list[int]:
    """The teams whose owners a manager (or admin) may filter on and reassign to; none for others."""
    return list(user.team_ids(Role.MANAGER) if not user.is_admin else Team.objects.values_list("pk", flat=True))


def _reps(user) -> list[tuple[int, str]]:
    """The people whose leads a manager (or admin) may filter on and reassign to, as (id, name):
    the owners eligible on the teams they manage. Empty for everyone else, who sees no rep filter.
    Read as tuples: the 50 User instances of a team cost about 1.5 ms a page."""
    team_ids = _rep_teams(user)
    if not team_ids:
        return []
    people = eligible_owners(*team_ids).values_list("pk", "first_name", "last_name", "username")
    return [(pk, f"{first} {last}".strip() or username) for pk, first, last, username in people]


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """My queue: the leads to work, sorted by any column, keyset-paginated so deep pages stay fast.
    The total comes in a request of its own (queue_total), so a slow count never holds the rows."""
    page: QueuePage = load_queue(request.user, request.GET, count=False)
    _prepare_rows(page.leads, request.user)
    decorate_queue_rows(page.leads, request.user)
    row_context = _row_context(request)
    # A form refused on the way here comes back as typed, once: only the full page shows it.
    refused = {} if request.htmx else request.session.pop(REFUSED_FORM, {})
    typed_bulk = refused if refused.get("form") == "bulk" else {}
    row_context["row_ticked"] = frozenset(typed_bulk.get("ids", ()))
    rows = render_rows(page.leads, row_context)
    # The htmx answers hold the rows, the total and the sort headers only: the menus, the saved
    # views and the rep list (a query for managers) belong to the full page.
    if request.htmx and request.GET.get("after"):
        return render(request, "leads/queue.html#more-rows", {"page": page, "rows": rows})
    if request.htmx and request.htmx.target == "queue-results":
        # The scopes name where else a search that found nothing here could look; bulk_actions
        # keeps the header's "select all" box for those who have a bulk bar.
        return render(request, "leads/queue.html#results", {"page": page, "rows": rows, "scopes": queue_scopes(request.user),
                                                             "bulk_actions": _may_act(request.user)})
    reps = _reps(request.user)
    views = list(saved_views_for(request.user))
    for view in views:  # Rename and Delete only for who may use them, as access_view decides
        view.can_change = can_change_view(request.user, view)
    context = {
        "page": page,
        "rows": rows,
        "here": row_context["here"],
        # Inline only when the request filters by a property; otherwise loaded on opening (property_filters).
        "property_filters": property_filter_fields(request.GET) if any(k.startswith(FILTER_PREFIX) for k in request.GET) else None,
        "scopes": queue_scopes(request.user),
        **_filter_options(page, reps, request.GET.get("owner", ""), typed_bulk.get("owner")),
        "reps": reps,
        # Marketing reads the team's leads and changes none: no bulk bar to be refused by.
        "bulk_actions": [(k, v) for k, v in bulk.ACTIONS.items() if k != "reassign" or reps] if _may_act(request.user) else [],
        "saved_views": views,
        "manage_views": any(view.can_change for view in views),
        "view_form": refused if refused.get("form") in ("save_view", "rename_view") else {},
        "typed_bulk": typed_bulk,
        "ticked": len(row_context["row_ticked"]),
    }
    if context["bulk_actions"]:  # the bulk bar's reason menu
        reasons = DisqualifyReason.objects.filter(active=True).order_by("name").values_list("pk", "name")
        context["reason_options"] = select_options(reasons, [typed_bulk.get("reason")])
    return render(request, "leads/queue.html", context)


@login_required
def queue_total(request: HttpRequest) -> HttpResponse:
    """The queue's total for the same scope, filters and sort, fetched by the page once it has
    shown its rows. Counting a filtered list can read up to COUNT_CAP rows, about as long as
    the page itself at 1M leads (bench/queue.py measures both); this way it never delays them."""
    page = load_queue(request.user, request.GET, count=True, rows=False)
    return render(request, "leads/queue.html#total", {"page": page})


# The export is for a filtered list, not a data dump: past this many rows, narrow the filters.
EXPORT_MAX_ROWS = 50_000
EXPORT_COLUMNS = ["id", "first_name", "last_name", "email", "phone", "title", "company", "stage", "score", "predicted",
                  "source", "campaign", "owner", "external_id", "created_at"]


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
                lead.stage, lead.score, "" if lead.predicted is None else f"{lead.predicted:.3f}",
                lead.source, lead.campaign, lead.owner.username if lead.owner else "",
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
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    """The bulk bar: one action on the selected rows through the same verbs, each row judged on
    its own; the page then says what was done and, row by row, what was refused and why."""
    back = safe_next(request, reverse("leads:queue"))
    form = BulkForm(request.POST, max_rows=bulk.MAX_ROWS)
    if not form.is_valid():
        return _refuse_bulk(request, form_error_message(form), back)
    data = form.cleaned_data
    owner = None
    if data["action"] == "reassign":
        team_ids = _rep_teams(request.user)
        owner = eligible_owners(*team_ids).filter(pk=data["owner"]).first() if team_ids else None
        if owner is None:
            return _refuse_bulk(request, NOT_AN_OWNER, back)
    result = bulk.apply(data["ids"], action=data["action"], by=request.user, owner=owner,
                        reason=data.get("reason"), note=data.get("note", ""))
    if result.done:
        messages.success(request, result.summary())
    for _pk, who, why in result.refused:
        messages.error(request, f"{who}: {why}")
    return HttpResponseRedirect(back)


NOT_AN_OWNER = "Choose an active SDR, AE or manager of a team you manage."

# The session key of a queue form refused by a POST, kept for the queue page the POST redirects to
# (the address keeps the filters): the bulk bar's ticked rows and choices, a view's typed name.
REFUSED_FORM = "queue_refused_form"


def _refuse(request: HttpRequest, form: str, error: str, **typed) -> None:
    request.session[REFUSED_FORM] = {"form": form, "error": error, **typed}


def _refuse_bulk(request: HttpRequest, error: str, back: str) -> HttpResponse:
    """The whole action refused: say why, and keep the ticked rows and the bar's choices for the
    page (a redirect alone came back with every box unticked). Only ASCII-digit ids are kept, at
    most MAX_ROWS: they are shown, not trusted."""
    messages.error(request, error)
    ids = [pk for pk in map(posted_id, request.POST.getlist("ids")[:bulk.MAX_ROWS]) if pk is not None]
    typed = {name: request.POST.get(name, "")[:NOTE_MAX_LENGTH] for name in ("action", "owner", "reason", "note")}
    _refuse(request, "bulk", error, ids=ids, **typed)
    return HttpResponseRedirect(back)


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
    defined = definitions()
    context["lead_properties"] = shown("lead", lead.properties, defined)
    context["account_properties"] = shown("account", lead.account.properties, defined)
    context.update(lead_page_context(lead, request.user))
    context.update(extra)
    return context


def render_rows(leads: list[Lead], context: dict) -> str:
    """The queue rows of `leads`, each prepared by _prepare_rows and decorate_queue_rows, as safe
    HTML. Jinja2 (qualify/jinja.py): about 4 ms for 50 rows where Django's engine took 11."""
    template = engines["jinja2"].get_template("leads/queue_rows.jinja")
    return mark_safe(template.render({**context, "leads": leads}))


def _row_context(request: HttpRequest, posted: dict | None = None) -> dict:
    """What every queue row needs, computed once per page rather than once per row. Every name the
    row reads is here, empty on the page (_row_response fills the message of its one row): a name
    missing from the context costs the template a failed lookup, an exception, each time."""
    here = safe_next(request, reverse("leads:queue")) if request.method == "POST" else request.get_full_path()
    posted = posted or {}
    return {
        "here": here,
        # The CSRF token and the way back, the same in every row form (two per row): one string.
        "row_hidden": format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                                  '<input type="hidden" name="next" value="{}">', get_token(request), here),
        # Built once per page, not looped in every row; a refused row's choices stay selected.
        "touch_kind_options": select_options(TouchKind.choices, [posted.get("kind", "")]),
        "touch_outcome_options": select_options(TouchOutcome.choices, [posted.get("outcome", "")]),
        "row_error": "",
        "row_flash": "",
        "row_posted": posted,
        "row_note": posted.get("note", ""),
        "row_ticked": frozenset(),  # the rows whose bulk box is ticked (a refused bulk action's)
    }


# Choice labels by value, for rows: Model.get_FOO_display() rebuilds a dict of the field's choices
# on every call.
SOURCE_LABELS = dict(Source.choices)
STAGE_LABELS = dict(Stage.choices)
SEGMENT_LABELS = dict(Segment.choices)


def _may_act(user: User) -> bool:
    """Whether `user` may change some lead (marketing may not: README, Security)."""
    return user.is_admin or bool(user.team_ids(Role.SDR, Role.AE, Role.MANAGER))


def _prepare_rows(leads: list[Lead], user: User) -> None:
    """What the queue row template reads, computed here because the template would compute it on
    every row: whether `user` may change the lead (`can_change`: a read-only row offers no action
    and no checkbox), the choice labels (`source_label`, `stage_label`, `segment_label`), the <option>
    tags of the stages a rep may move the lead to (`move_options`, '' for none; built once per
    stage on the page), and the reason of each lead an AE sent back to Working (one query for the
    page, only when it has such leads; read in the row, it was one query per returned lead)."""
    by_stage: dict[str, str] = {}
    returned = {lead.disqualify_reason_id for lead in leads if lead.stage == Stage.WORKING and lead.disqualify_reason_id}
    reasons = DisqualifyReason.objects.in_bulk(returned) if returned else {}
    for lead in leads:
        lead.can_change = can_change_lead(user, lead)
        if lead.stage not in by_stage:
            by_stage[lead.stage] = format_html_join("", '<option value="{}">{}</option>', lead.manual_next())
        lead.move_options = by_stage[lead.stage]
        lead.source_label = SOURCE_LABELS.get(lead.source, lead.source)
        lead.stage_label = STAGE_LABELS.get(lead.stage, lead.stage)
        lead.segment_label = SEGMENT_LABELS.get(lead.account.segment, lead.account.segment)
        if lead.disqualify_reason_id in reasons:
            lead.disqualify_reason = reasons[lead.disqualify_reason_id]


def select_options(pairs, selected=()) -> str:
    """<option> tags for (value, label) pairs, marking the values in `selected`. Built in Python:
    a template loop cost about 0.1 ms an option, and a manager's queue has about 130 of them (the
    stage, source and segment filters, the rep filter and the reassign menu)."""
    chosen = {str(v) for v in selected or ()}
    return format_html_join(
        "", '<option value="{}"{}>{}</option>',
        ((value, mark_safe(" selected") if str(value) in chosen else "", label) for value, label in pairs),
    )


def _filter_options(page: QueuePage, reps: list[tuple[int, str]], rep_filter: str, reassign_to: str | None = None) -> dict[str, str]:
    """The queue's filter and reassign menus, with what the request chose selected (and the
    reassign menu's choice of a refused bulk action)."""
    form = page.filters.form
    return {
        "stage_options": select_options(Stage.choices, form["stage"].value()),
        "source_options": select_options(Source.choices, form["source"].value()),
        "segment_options": select_options(Segment.choices, form["segment"].value()),
        "rep_options": select_options(reps, [rep_filter]),
        "reassign_options": select_options(reps, [reassign_to]),
    }


def _row_response(
    request: HttpRequest, lead: Lead, *, error: str = "", flash: str = "", posted: dict | None = None
) -> HttpResponse:
    """htmx: re-render the queue row in place (a refused touch keeps what was typed, in `posted`).
    Otherwise: back to where the user came from."""
    if request.htmx:
        lead = access_lead(request.user, lead.pk)
        _prepare_rows([lead], request.user)
        decorate_queue_rows([lead], request.user)
        context = {**_row_context(request, posted), "row_error": error, "row_flash": flash}
        return HttpResponse(render_rows([lead], context))
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
    return _row_response(request, lead, flash=f"Already logged: {t}" if t.repeated else f"Logged: {t}")


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
        context = detail_context(request, lead, **{f"{kind}_form": form, f"{kind}_error": e.message})
        if request.htmx:
            return render(request, "leads/detail.html#actions", context)
        # Without JavaScript: the whole page, the form as typed (a redirect lost the note).
        return render(request, "leads/detail.html", context, status=400)
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
        # Beside the form, with the name as typed (a redirect alone lost it).
        _refuse(request, "save_view", e.message, name=request.POST.get("name", "")[:200], share=bool(request.POST.get("share")))
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
        _refuse(request, "rename_view", e.message, view=view.pk, name=request.POST.get("name", view.name)[:200])
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


# People listed on an account page; a larger account says how many more there are.
ACCOUNT_PEOPLE = 300
ACCOUNT_ACTIVITY = 40


@login_required
def account(request: HttpRequest, account_id: int) -> HttpResponse:
    """The account page: firmographics, owner, every person at the account with who owns them, and
    recent activity; other concepts add engagement, the buying committee and open handoffs
    (panels.ACCOUNT_PAGE_CONTEXT). Another team's account is a 404, like a lead."""
    acct = access_account(request.user, account_id)
    if acct.pk != account_id:  # merged into another account
        return HttpResponseRedirect(acct.get_absolute_url(), status=301)
    at_account = Lead.objects.filter(account=acct, team_id=acct.team_id)
    people = list(at_account.select_related("owner", "ae").order_by("-score", "id")[:ACCOUNT_PEOPLE])
    context = {
        "account": acct,
        "people": people,
        "people_total": at_account.count() if len(people) == ACCOUNT_PEOPLE else len(people),
        "visible_ids": set(at_account.visible_to(request.user).values_list("pk", flat=True)),
        "owners": _owners(people),
        "activity": _account_activity(acct),
        "can_change_account": can_change_account(request.user, acct),
        "account_edit_url": _reverse_or_none("leads:account_edit", acct.pk),
    }
    context.update(account_page_context(acct, people, request.user))
    return render(request, "leads/account.html", context)


def _reverse_or_none(name: str, *args) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _owners(people: list[Lead]) -> list[tuple[str, int]]:
    """Who owns the account's people, most first ("Team pool" for the unowned)."""
    counts: dict[str, int] = {}
    for lead in people:
        name = str(lead.owner) if lead.owner else "Team pool"
        counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def _account_activity(acct) -> list[Entry]:
    """The newest events, touches and stage changes of the account's people: three queries."""
    leads = Lead.objects.filter(account=acct, team_id=acct.team_id).values("pk")
    limit = ACCOUNT_ACTIVITY
    entries = [Entry(e.occurred_at, "event", e) for e in
               Event.objects.filter(lead__in=leads).select_related("lead").order_by("-occurred_at")[:limit]]
    entries += [Entry(t.occurred_at, "touch", t) for t in
                Touch.objects.filter(lead__in=leads).select_related("lead", "author").order_by("-occurred_at")[:limit]]
    entries += [Entry(c.at, "stage", c) for c in
                StageChange.objects.filter(lead__in=leads).select_related("lead", "by", "reason").order_by("-at", "-id")[:limit]]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
