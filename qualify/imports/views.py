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
from qualify.leads.models import Source, Stage

from .access import access_job, can_import_kind, import_teams, importable_kinds, visible_jobs
from .columns import FIELDS, KIND_FIELDS
from .jobs import create_job, start
from .models import ImportJob, ImportKind, ImportMode


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
                raise PermissionDenied("Marketing imports new leads only; accounts and outcomes are for managers and RevOps.")
            defaults = {"source": request.POST.get("default_source", ""), "stage": request.POST.get("default_stage", "")}
            job = create_job(kind=kind, team=team, by=request.user, content=upload_file.read(),
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


@login_required
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job(request.user, job_id)
    if request.htmx and request.GET.get("poll"):
        return render(request, "imports/job.html#status", _job_context(job))
    return render(request, "imports/job.html", _job_context(job))


@login_required
@require_POST
def job_run(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job(request.user, job_id)
    if job.created_by_id != request.user.pk and not request.user.is_admin:
        raise PermissionDenied("Only the person who uploaded the file can run it.")
    mapping = {column: request.POST.get(f"map-{i}", "") for i, column in enumerate(job.header)}
    try:
        start(job, dry_run=request.POST.get("action") != "import", mode=request.POST.get("mode", ""), mapping=mapping)
    except DomainError as e:
        messages.error(request, e.message)
    return HttpResponseRedirect(reverse("imports:job", args=[job.pk]))
