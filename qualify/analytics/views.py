"""Metrics pages: each table has a chart where people would rather look than read, and a CSV."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from qualify.exports import csv_response
from qualify.formatting import humanize_duration, show_percent
from qualify.redirects import safe_next

from . import charts
from . import metrics as m
from .access import filters_from, metric_teams
from .rollups import refresh, refreshed_at
from .tables import TABLES


def _csv(name: str, f: m.Filters, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    return csv_response(f"qualify-{name}-{f.start}-{f.end}.csv", header, rows)


PAGE_TABLES = {
    "funnel": ("funnel", "cohorts"),
    "velocity": ("speed", "stages", "cycle"),
    "handoffs": ("by_sdr", "by_source", "pareto", "consistency"),
    "quality": ("false_sql_rep", "false_sql_source", "sla"),
}


def _export(name: str, f: m.Filters, dim: str) -> HttpResponse:
    header, rows = TABLES[name](f, dim)
    suffix = f"-by-{dim}" if header and header[0] == dim else ""
    return _csv(name.replace("_", "-") + suffix, f, header, rows)


def _dim(request: HttpRequest, default: str = "source") -> str:
    dim = request.GET.get("dim", default)
    return dim if dim in m.DIMENSIONS else default


def _context(request: HttpRequest, f: m.Filters, teams, team, **extra) -> dict:
    query = request.GET.copy()
    query.pop("export", None)
    dim = extra.get("dim")
    return {"f": f, "teams": teams, "team": team, "dims": m.DIMENSIONS, "refreshed_at": refreshed_at(),
            "query": query.urlencode(), "dim_label": m.DIMENSIONS.get(dim, ""), **extra}


def _exported(request: HttpRequest, page: str, f: m.Filters, dim: str) -> HttpResponse | None:
    """The CSV of one of the page's tables when ?export= names it (before computing the page)."""
    export = request.GET.get("export")
    return _export(export, f, dim) if export in PAGE_TABLES[page] else None


@login_required
def funnel(request: HttpRequest) -> HttpResponse:
    """Funnel conversion lead → MQL → accepted → opportunity → won, by a dimension and by monthly cohort."""
    f, teams, team = filters_from(request)
    dim = _dim(request)
    if csv_response := _exported(request, "funnel", f, dim):
        return csv_response
    total = m.funnel_total(f)
    by = m.funnel_by(f, dim)
    months = m.cohorts(f)
    steps = [("Leads", total.leads), ("MQL", total.mql), ("Accepted", total.accepted),
             ("Opportunity", total.opportunity), ("Won", total.won)]
    return render(request, "analytics/funnel.html", _context(
        request, f, teams, team, dim=dim, total=total, rows=by, months=months,
        funnel_chart=charts.funnel("Funnel", steps),
        by_chart=charts.hbars(f"Lead → won by {m.DIMENSIONS[dim].lower()}",
                              [(r.label, r.lead_to_won or 0, f"{show_percent(r.lead_to_won)} of {r.leads:,}") for r in by[:15]]),
        cohort_chart=charts.columns("Leads per monthly cohort, with lead → won %",
                                    [(r.label, r.leads) for r in months], rate=[r.lead_to_won for r in months],
                                    count_name="Leads", rate_name="Lead → won %"),
    ))


@login_required
def velocity(request: HttpRequest) -> HttpResponse:
    """Speed to lead, time in stage, sales cycle and win rate."""
    f, teams, team = filters_from(request)
    dim = _dim(request)
    if csv_response := _exported(request, "velocity", f, dim):
        return csv_response
    total = m.funnel_total(f)
    by = m.funnel_by(f, dim, with_median=True)
    overall_median = m.median_cycle_days(f).get("")
    total.median_cycle_days = overall_median
    top = by[:15]
    return render(request, "analytics/velocity.html", _context(
        request, f, teams, team, dim=dim, total=total, rows=by, overall_median=overall_median,
        stages=[(label, total.stage_time[s][0], total.avg_stage_days(s)) for s, label in m.STAGES],
        stage_chart=charts.hbars("Average time in stage", [
            (label, total.avg_stage_days(s) or 0,
             f"{humanize_duration(total.avg_stage_days(s) or 0, 'days')} (n={total.stage_time[s][0]:,})")
            for s, label in m.STAGES]),
        speed_chart=charts.hbars(
            "MQLs answered within an hour",
            # The bar is the share its text leads with (as the win rates beside it), not the count.
            [(r.label, m.pct(r.speed_1h, r.mql) or 0, f"{show_percent(m.pct(r.speed_1h, r.mql))} ({r.speed_1h:,} of {r.mql:,})")
             for r in top],
            max_value=100),
        win_chart=charts.hbars("Win rate (won of closed)",
                               [(r.label, r.win_rate or 0, f"{show_percent(r.win_rate)} of {r.won + r.lost:,}") for r in top], max_value=100),
        cycle_chart=charts.hbars("Median time to close",
                                 [(r.label, r.median_cycle_days or 0,
                                   f"{humanize_duration(r.median_cycle_days, 'days')} ({r.won:,} won)") for r in top if r.won]),
    ))


@login_required
def handoffs(request: HttpRequest) -> HttpResponse:
    """Acceptance by SDR and source, rejection reasons as a Pareto by source, consistency between reps."""
    f, teams, team = filters_from(request)
    if csv_response := _exported(request, "handoffs", f, ""):
        return csv_response
    cells = m.handoff_cells(f)  # one scan; the four tables are computed from it
    overall, per_source = m.rejection_pareto(f, cells)
    return render(request, "analytics/handoffs.html", _context(
        request, f, teams, team, by_sdr=m.acceptance_by(f, "sdr", cells), by_source=m.acceptance_by(f, "source", cells),
        overall=overall, per_source=per_source, reps=m.consistency(f, cells),
        pareto_chart=charts.pareto_chart("Rejection reasons (Pareto)", [(b.reason, b.count, b.cumulative) for b in overall]),
        # Two to a row: half a card wide, so their text is drawn at about its size rather than halved.
        source_charts=[(p, charts.pareto_chart(p.label, [(b.reason, b.count, b.cumulative) for b in p.bars], width=charts.WIDTH))
                       for p in per_source],
    ))


@login_required
def marketing(request: HttpRequest) -> HttpResponse:
    """Marketing's start page: how their sources and campaigns convert, and what AEs say about the
    leads they produce (acceptance and rejection reasons by source). The same queries as the funnel
    and handoff pages, on one page; the full breakdowns stay there."""
    f, teams, team = filters_from(request)
    total = m.funnel_total(f)
    by_source = m.funnel_by(f, "source")
    by_campaign = m.funnel_by(f, "campaign")[:10]
    cells = m.handoff_cells(f)
    overall, per_source = m.rejection_pareto(f, cells)
    return render(request, "analytics/marketing.html", _context(
        request, f, teams, team, total=total, by_source=by_source, by_campaign=by_campaign,
        acceptance=m.acceptance_by(f, "source", cells), per_source=per_source,
        source_chart=charts.hbars("Lead → won by source",
                                  [(r.label, r.lead_to_won or 0, f"{show_percent(r.lead_to_won)} of {r.leads:,}") for r in by_source]),
        # Half a card wide, beside the sources chart.
        pareto_chart=charts.pareto_chart("Why AEs reject your leads", [(b.reason, b.count, b.cumulative) for b in overall],
                                         width=charts.WIDTH),
    ))


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    """False-SQL rate from manager reviews, and SLA compliance."""
    f, teams, team = filters_from(request)
    if csv_response := _exported(request, "quality", f, ""):
        return csv_response
    by_rep, by_source = m.false_sql_rate(f, "sdr"), m.false_sql_rate(f, "source")
    sla = m.sla_compliance(f)
    return render(request, "analytics/quality.html", _context(
        request, f, teams, team, by_rep=by_rep, by_source=by_source, sla=sla or [], sla_missing=sla is None,
        rep_chart=charts.hbars("False-SQL rate by rep", [(r.label, r.rate or 0, f"{show_percent(r.rate)} of {r.reviewed}") for r in by_rep], max_value=100),
        source_chart=charts.hbars("False-SQL rate by source", [(r.label, r.rate or 0, f"{show_percent(r.rate)} of {r.reviewed}") for r in by_source], max_value=100),
        sla_chart=charts.hbars("SLA compliance", [(r.label, r.rate or 0, f"{show_percent(r.rate)} of {r.decided}") for r in sla or []], max_value=100),
    ))


@login_required
@require_POST
def refresh_now(request: HttpRequest) -> HttpResponse:
    """Bring the figures up to date now (incremental; admins may ask for a full rebuild)."""
    metric_teams(request.user)  # 403 for those who may not read metrics
    full = request.POST.get("full") == "1" and request.user.is_admin
    result = refresh(full=full)
    if result.ran:
        messages.success(request, f"Metrics refreshed ({result.leads:,} leads recomputed in {result.seconds:.1f} s).")
    else:
        messages.info(request, "A refresh is already running; try again in a moment.")
    return HttpResponseRedirect(safe_next(request, reverse("analytics:funnel")))
