"""CSV import pages: upload, check the mapping, dry run or import, watch progress (htmx polling)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qualify.errors import DomainError
from qualify.leads.models import Property, PropertyKind, Source, Stage
from qualify.leads.properties import make_key

from .access import KIND_REFUSED, access_job, can_import_kind, import_teams, importable_kinds, require_run, visible_jobs
from .columns import FIELDS, KIND_FIELDS
from .jobs import create_job, read_upload, start
from .mapping import PREFIX, VALUE_MAP_FIELDS, entity_of, profile, property_key
from .models import ImportJob, ImportKind, ImportMode
from .parsing import read_csv

# Rows read to infer a new property's kind on the mapping page; its choices come from every row.
PROFILE_ROWS = 5000
# A column with at most this many distinct values offers to map each to a stage or source.
MAX_MAPPED_VALUES = 12


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    teams = import_teams(request.user)
    error = ""
    if request.method == "POST":
        team = next((t for t in teams if str(t.pk) == request.POST.get("team")), None)
        upload_file = request.FILES.get("file")
        try:
            if team is None:
                raise DomainError("Choose a team you can import into.", field="team")
            if upload_file is None:
                raise DomainError("Choose a CSV file.", field="file")
            kind = request.POST.get("kind", "")
            if kind in ImportKind.values and not can_import_kind(request.user, team.pk, kind):
                raise PermissionDenied(KIND_REFUSED)
            defaults = {"source": request.POST.get("default_source", ""), "stage": request.POST.get("default_stage", "")}
            job = create_job(kind=kind, team=team, by=request.user, content=read_upload(upload_file),
                             filename=upload_file.name, defaults=defaults)
        except DomainError as e:
            error = e.message
        else:
            return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))
    jobs = list(visible_jobs(request.user).select_related("team", "created_by").defer("content")[:20])
    return render(request, "imports/upload.html", {
        "teams": teams, "kinds": importable_kinds(request.user, teams), "jobs": jobs, "error": error, "sources": Source.choices,
        "stages": Stage.choices,
    })


def _job_context(job: ImportJob, **extra) -> dict:
    fields = [(name, FIELDS[name][0]) for name in KIND_FIELDS[job.kind]]
    return {"job": job, "fields": fields, "modes": ImportMode.choices, "errors": job.errors[:200],
            "more_errors": max(len(job.errors) - 200, 0), **extra}


def _mapping_context(job: ImportJob) -> dict:
    """The mapping step: per column its current target, the kind a new property would take
    (inferred from the values, the user confirms it) and its values when few (to map them to
    stages or sources). Reads the stored file once."""
    rows = [r.cells for r in read_csv(bytes(job.content)).rows[:PROFILE_ROWS] if not r.problem]
    columns = []
    for i, p in enumerate(profile(job.header, rows)):
        target = job.mapping.get(p["column"], "")
        key = property_key(target)
        new = (job.new_properties or {}).get(key or "") if key else None
        field = target if target in VALUE_MAP_FIELDS else ""
        table = (job.value_maps or {}).get(field or "stage", {})
        values = [(v, table.get(v, "")) for v in p["top"]] if p["distinct"] <= MAX_MAPPED_VALUES else []
        columns.append({**p, "i": i, "target": "new" if new else target, "label": (new or {}).get("label") or p["column"],
                        "kind": (new or {}).get("kind") or p["kind"], "values": values})
    if job.kind == ImportKind.OUTCOMES:
        props = []
    else:
        props = [(f"{PREFIX}{p.key}", p.label) for p in Property.objects.filter(entity=entity_of(job.kind), active=True)]
    return {"columns": columns, "properties": props, "kinds": PropertyKind.choices, "stage_choices": Stage.choices,
            "source_choices": Source.choices}


def _posted_mapping(request: HttpRequest, job: ImportJob) -> tuple[dict, dict, dict]:
    """mapping, new properties and value maps from the mapping form. A column mapped to "new"
    becomes `prop:<key from its label>` with the kind chosen; a choice property takes the
    column's distinct values as its choices."""
    mapping, new, maps = {}, {}, {}
    profiles = None
    for i, column in enumerate(job.header):
        target = request.POST.get(f"map-{i}", "")
        if target == "new":
            label = (request.POST.get(f"label-{i}") or column).strip()[:100]
            key = make_key(label)
            if key in new:
                key = f"{key[:45]}_{i}"
            kind = request.POST.get(f"kind-{i}", "text")
            choices: list[str] = []
            if kind == PropertyKind.CHOICE:
                if profiles is None:
                    rows = [r.cells for r in read_csv(bytes(job.content)).rows if not r.problem]
                    profiles = {p["column"]: p for p in profile(job.header, rows)}
                choices = sorted({r for r in profiles[column]["all"]}, key=str.casefold)
            new[key] = {"label": label, "kind": kind, "choices": choices,
                        "known_after_contact": request.POST.get(f"after-{i}") == "on"}
            target = f"{PREFIX}{key}"
        mapping[column] = target
        if target in VALUE_MAP_FIELDS:
            choices_ok = VALUE_MAP_FIELDS[target].values
            for j in range(MAX_MAPPED_VALUES):
                raw, to = request.POST.get(f"vk-{i}-{j}"), request.POST.get(f"vm-{i}-{j}", "")
                if raw is None:
                    break
                if to in choices_ok:
                    maps.setdefault(target, {})[raw] = to
    return mapping, new, maps


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job(request.user, job_id)
    if request.htmx and request.GET.get("poll"):
        return render(request, "imports/job.html#status", _job_context(job))
    extra = _mapping_context(job) if not job.imported_at and not job.is_running else {}
    return render(request, "imports/job.html", _job_context(job, **extra))


@login_required
@require_POST
def job_run(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job(request.user, job_id)
    require_run(request.user, job)
    try:
        mapping, new, maps = _posted_mapping(request, job)
        defaults = dict(job.defaults or {})
        if job.kind != ImportKind.ACCOUNTS:
            defaults["close_date"] = request.POST.get("default_close_date", "").strip()
        start(job, dry_run=request.POST.get("action") != "import", mode=request.POST.get("mode", ""), mapping=mapping,
              new_properties=new, value_maps=maps, defaults=defaults)
    except DomainError as e:
        messages.error(request, e.message)
    return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))
