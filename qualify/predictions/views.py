"""The model quality page (managers and RevOps), its drill-downs, training and approval doors,
and the lead page's predicted-conversion panel."""

from __future__ import annotations

from typing import Any

import numpy as np
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from qualify.errors import DomainError
from qualify.leads.models import OPEN_STAGES, Lead

from . import charts, versions
from .access import can_read_quality, require_quality_reader, require_revops
from .evaluation import bin_of, capture_sentence, described_features, verdict
from .learners import LABELS as LEARNER_LABELS
from .models import PredictionVersion, Status
from .scoring import explain

TOP_OPEN = 25


def lead_prediction_context(lead: Lead, user) -> dict[str, Any]:
    """LEAD_PAGE_CONTEXT entry: the probability and its top factors (1 feature query, one
    prediction per feature)."""
    number = None
    if lead.predicted_version:
        number = PredictionVersion.objects.filter(pk=lead.predicted_version).values_list("number", flat=True).first()
    return {"prediction": {
        "probability": lead.predicted,
        "version_label": f"prediction v{number}" if number else "",
        "factors": explain([lead], k=4).get(lead.pk, []) if lead.predicted is not None else [],
        "can_see_quality": can_read_quality(user),
    }}


def _version_context(request: HttpRequest, version: PredictionVersion | None) -> dict[str, Any]:
    if version is None or not version.report:
        return {"version": version}
    report = version.report
    overall = report["overall"]
    visible = Lead.objects.visible_to(request.user)
    # Drill-down: the held-out leads of one reliability bin, only those the reader may see.
    drill: list[dict[str, Any]] | None = None
    bin_raw = request.GET.get("bin")
    if bin_raw is not None:
        try:
            b = int(bin_raw)
        except ValueError:
            b = -1
        if not 0 <= b < len(overall["reliability"]):
            raise Http404("No such bin.")
        held = report.get("held_out", [])
        bins = bin_of(np.array([p for _, p, _ in held], dtype=float)) if held else []
        inside = {i: (p, won) for (i, p, won), hb in zip(held, bins) if hb == b}
        leads = visible.filter(pk__in=list(inside)).select_related("account").order_by("-id")[:200]
        drill = [{"lead": lead, "p": inside[lead.pk][0], "won": inside[lead.pk][1]} for lead in leads]
    top_open = list(
        visible.filter(stage__in=OPEN_STAGES, predicted__isnull=False).select_related("account")
        .order_by("-predicted", "-id")[:TOP_OPEN]
    )
    return {
        "version": version,
        "report": report,
        "overall": overall,
        "baseline": version.baseline,
        "reliability": charts.reliability_chart(overall["reliability"]),
        "capture": charts.capture_chart(overall["capture"]),
        "capture_sentence": capture_sentence(overall),
        "weak_features": [f for f in report.get("single_feature_auc", []) if f["auc"] < 0.55],
        "verdict": verdict(overall),
        "single_features": described_features(report),
        "drill": drill,
        "drill_bin": bin_raw,
        "top_open": top_open,
        **_learners(report),
    }


def _learners(report: dict[str, Any]) -> dict[str, Any]:
    """The learners a report names by key ("logistic_regression"), by their names instead."""
    def name(key: str | None) -> str:
        return LEARNER_LABELS.get(key or "", key or "")

    chosen = report.get("global", {})
    return {
        "global_learner": name(chosen.get("estimator")),
        "global_learner_auc": chosen.get("candidates", {}).get(chosen.get("estimator")),
        # The learners it was chosen over: not itself.
        "global_candidates": [(name(k), auc) for k, auc in chosen.get("candidates", {}).items()
                              if k != chosen.get("estimator")],
        "segments": [{**s, "learner": name(s.get("estimator"))} for s in report.get("segments", [])],
    }


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    """The active version's quality (or the newest trained one), and every version."""
    require_quality_reader(request.user)
    all_versions = list(PredictionVersion.objects.defer("artifact", "report").order_by("-number")[:30])
    shown = PredictionVersion.objects.defer("artifact").filter(status=Status.ACTIVE).first() or \
        PredictionVersion.objects.defer("artifact").exclude(report={}).order_by("-number").first()
    return render(request, "predictions/quality.html", {
        **_version_context(request, shown), "versions": all_versions, "is_revops": request.user.is_admin,
    })


@login_required
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    require_quality_reader(request.user)
    version = get_object_or_404(PredictionVersion.objects.defer("artifact"), pk=version_id)
    return render(request, "predictions/quality.html", {
        **_version_context(request, version), "versions": None, "is_revops": request.user.is_admin,
    })


@login_required
def progress(request: HttpRequest, version_id: int) -> HttpResponse:
    """The progress bar, polled by htmx while a version trains or scores leads."""
    require_quality_reader(request.user)
    version = get_object_or_404(PredictionVersion.objects.defer("artifact", "report"), pk=version_id)
    return render(request, "predictions/_progress.html", {"v": version})


@login_required
@require_POST
def train(request: HttpRequest) -> HttpResponse:
    require_revops(request.user)
    raw = request.POST.get("window_days") or str(versions.DEFAULT_WINDOW_DAYS)
    try:
        window = int(raw)
        version = versions.request_training(by=request.user, window_days=window)
    except (ValueError, DomainError) as e:
        messages.error(request, getattr(e, "message", "The window is a whole number of days."))
        return redirect("predictions:quality")
    messages.success(request, f"{version} is training; this page shows its progress.")
    return redirect("predictions:quality")


@login_required
@require_POST
def decide(request: HttpRequest, version_id: int, decision: str) -> HttpResponse:
    require_revops(request.user)
    version = get_object_or_404(PredictionVersion.objects.defer("artifact"), pk=version_id)
    try:
        (versions.approve if decision == "approve" else versions.decline)(version, by=request.user)
    except DomainError as e:
        messages.error(request, e.message)
    else:
        messages.success(request, f"{version} {'approved: it scores every lead, then becomes active' if decision == 'approve' else 'declined'}.")
    return redirect("predictions:version", version_id=version.pk)
