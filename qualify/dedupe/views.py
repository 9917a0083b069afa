"""The duplicates page (RevOps and managers): open pairs by confidence, the merge form with a
field-by-field choice, "not a duplicate", and the bulk finder. Thin views over decisions.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Team
from qualify import queueing
from qualify.countries import country_name
from qualify.errors import DomainError
from qualify.leads.access import access_account, access_lead
from qualify.leads.merge import ACCOUNT_FIELDS, LEAD_FIELDS, OTHER, SURVIVOR, default_choices, default_survivor
from qualify.leads.models import Account, Lead

from . import decisions
from .access import access_candidate, can_work_duplicates, duplicate_teams, require_duplicates, visible_candidates
from .models import DuplicateCandidate, Kind, Status
from .tasks import find_duplicates_task

PAGE = 100


def lead_duplicates_context(lead, user) -> dict:
    """The lead page's "possible duplicate" badge: open pairs this lead is part of (2 queries, both
    served by the pair indexes). Those who work duplicates get a link to the pair; others see the
    other lead's name only if they may open it."""
    pairs = list(DuplicateCandidate.objects.filter(Q(low_id=lead.pk) | Q(high_id=lead.pk), kind=Kind.LEAD,
                                                   status=Status.OPEN, team_id=lead.team_id)
                 .order_by("-confidence")[:5])
    if not pairs:
        return {"duplicate_pairs": []}
    others = {p.pk: p.low_id + p.high_id - lead.pk for p in pairs}
    visible = {o.pk: o for o in Lead.objects.visible_to(user).filter(pk__in=others.values())}
    teams = duplicate_teams(user)
    works = can_work_duplicates(user) and (teams is None or lead.team_id in teams)
    return {"duplicate_pairs": [
        {"pair": p, "other": visible.get(others[p.pk]), "url": reverse("dedupe:candidate", args=[p.pk]) if works else None}
        for p in pairs
    ]}


def _records(kind: str, ids) -> dict[int, Lead | Account]:
    if kind == Kind.LEAD:
        qs = Lead.objects.select_related("account", "owner")
    else:
        qs = Account.objects.select_related("owner")
    return {r.pk: r for r in qs.filter(pk__in=list(ids))}


@login_required
def candidates(request: HttpRequest) -> HttpResponse:
    """Open pairs of the user's teams, most confident first (3 queries whatever the page size)."""
    require_duplicates(request.user)
    kind = request.GET.get("kind") if request.GET.get("kind") in Kind.values else Kind.LEAD
    pairs = list(visible_candidates(request.user).filter(kind=kind, status=Status.OPEN)
                 .order_by("-confidence", "-id")[:PAGE])
    records = _records(kind, {pk for p in pairs for pk in (p.low_id, p.high_id)})
    rows = [(p, records.get(p.low_id), records.get(p.high_id)) for p in pairs]
    context = {"rows": rows, "kind": kind, "kinds": Kind.choices, "page_size": PAGE}
    if request.htmx:
        return render(request, "dedupe/candidates.html#rows", context)
    return render(request, "dedupe/candidates.html", context)


def _default_survivor(kind: str, a, b):
    """Leads: the one further along the funnel (it keeps its stage and owner), then the older."""
    return default_survivor(a, b) if kind == Kind.LEAD else (a if a.pk < b.pk else b)


@login_required
def candidate(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """The merge form: which record survives, and per field whose value it keeps."""
    pair = access_candidate(request.user, candidate_id)
    records = _records(pair.kind, [pair.low_id, pair.high_id])
    a, b = records.get(pair.low_id), records.get(pair.high_id)
    if pair.status != Status.OPEN or a is None or b is None:
        messages.info(request, "This pair was already decided.")
        return HttpResponseRedirect(reverse("dedupe:candidates") + f"?kind={pair.kind}")
    survivor = _default_survivor(pair.kind, a, b)
    other = b if survivor is a else a
    names = LEAD_FIELDS if pair.kind == Kind.LEAD else ACCOUNT_FIELDS
    choices = default_choices(survivor, other, names)
    fields = []
    for name in names:
        field = a._meta.get_field(name)
        keep = survivor if choices[name] == SURVIVOR else other
        fields.append({"name": name, "label": field.verbose_name.capitalize(), "a": _shown(a, name), "b": _shown(b, name),
                       "pick": keep.pk, "same": _shown(a, name) == _shown(b, name)})
    return render(request, "dedupe/candidate.html", {
        "pair": pair, "a": a, "b": b, "survivor": survivor, "fields": fields, "is_lead": pair.kind == Kind.LEAD,
    })


def _shown(record, name: str) -> str:
    value = getattr(record, name)
    if name == "country":  # an account's ISO code, named as the account page names it
        return country_name(value or "")
    if hasattr(record, f"get_{name}_display"):
        return getattr(record, f"get_{name}_display")() if value else ""
    return "" if value is None else str(value)


@login_required
@require_POST
def merge(request: HttpRequest, candidate_id: int) -> HttpResponse:
    pair = access_candidate(request.user, candidate_id)
    try:
        survivor_id = int(request.POST.get("survivor", ""))
    except ValueError:
        survivor_id = 0
    access = access_lead if pair.kind == Kind.LEAD else access_account
    for pk in (pair.low_id, pair.high_id):  # both must be the user's to change (a 404 for outsiders)
        access(request.user, pk, for_write=True)
    names = LEAD_FIELDS if pair.kind == Kind.LEAD else ACCOUNT_FIELDS
    fields = {name: (SURVIVOR if request.POST.get(f"field_{name}") == str(survivor_id) else OTHER)
              for name in names if request.POST.get(f"field_{name}")}
    try:
        kept = decisions.merge_pair(pair, survivor_id=survivor_id, by=request.user, fields=fields)
    except DomainError as e:
        messages.error(request, e.message)
        return HttpResponseRedirect(reverse("dedupe:candidate", args=[pair.pk]))
    messages.success(request, f"Merged into {kept} (#{kept.pk}); #{pair.low_id + pair.high_id - kept.pk} now opens it.")
    return HttpResponseRedirect(reverse("dedupe:candidates") + f"?kind={pair.kind}")


@login_required
@require_POST
def dismiss(request: HttpRequest, candidate_id: int) -> HttpResponse:
    """Not a duplicate. htmx: the row goes away; otherwise back to the list."""
    pair = access_candidate(request.user, candidate_id)
    try:
        decisions.dismiss(pair, by=request.user)
    except DomainError as e:
        messages.error(request, e.message)
    if request.htmx:
        return HttpResponse("")
    return HttpResponseRedirect(reverse("dedupe:candidates") + f"?kind={pair.kind}")


@login_required
@require_POST
def find(request: HttpRequest) -> HttpResponse:
    """Queue the bulk finder over the user's teams (a task: it outlasts a request at 1M leads)."""
    require_duplicates(request.user)
    teams = duplicate_teams(request.user)
    team_ids = list(Team.objects.values_list("pk", flat=True)) if teams is None else sorted(teams)
    if queueing.send(find_duplicates_task, team_ids, fallback="the finder was not started"):
        messages.success(request, "The finder is looking through your teams' leads and accounts; new pairs appear here as it goes.")
    else:
        messages.error(request, "The finder could not be started: the task queue cannot be reached. Try again in a minute.")
    return HttpResponseRedirect(reverse("dedupe:candidates"))
