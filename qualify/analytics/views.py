"""Metrics pages: each table has a chart where people would rather look than read, and a CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from . import charts
from . import metrics as m
from .access import filters_from, metric_teams
from .rollups import refresh, refreshed_at


def _csv(name: str, f: m.Filters, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="qualify-{name}-{f.start}-{f.end}.csv"'
    w = csv.writer(response)
    w.writerow(header)
    w.writerows(rows)
    return response


def _dim(request: HttpRequest, default: str = "source") -> str:
    dim = request.GET.get("dim", default)
    return dim if dim in m.DIMENSIONS else default


def _context(request: HttpRequest, f: m.Filters, teams, team, **extra) -> dict:
    query = request.GET.copy()
    query.pop("export", None)
    dim = extra.get("dim")
    return {"f": f, "teams": teams, "team": team, "dims": m.DIMENSIONS, "refreshed_at": refreshed_at(),
            "query": query.urlencode(), "dim_label": m.DIMENSIONS.get(dim, ""), **extra}


FUNNEL_HEADER = ["key", "leads", "mql", "accepted", "opportunity", "won", "lost", "lead_to_mql_pct", "mql_to_accepted_pct",
                 "accepted_to_opportunity_pct", "opportunity_to_won_pct", "lead_to_won_pct", "win_rate_pct"]


def _funnel_cells(r: m.FunnelRow) -> list:
    return [r.label, r.leads, r.mql, r.accepted, r.opportunity, r.won, r.lost, r.mql_rate, r.accept_rate, r.opp_rate,
            r.won_from_opp, r.lead_to_won, r.win_rate]


@login_required
def funnel(request: HttpRequest) -> HttpResponse:
    """Funnel conversion lead → MQL → accepted → opportunity → won, by a dimension and by monthly cohort."""
    f, teams, team = filters_from(request)
    dim = _dim(request)
    total = m.funnel_total(f)
    by = m.funnel_by(f, dim)
    months = m.cohorts(f)
    export = request.GET.get("export")
    if export == "funnel":
        return _csv(f"funnel-by-{dim}", f, [dim, *FUNNEL_HEADER[1:]], [_funnel_cells(r) for r in [total, *by]])
    if export == "cohorts":
        return _csv("funnel-cohorts", f, ["month", *FUNNEL_HEADER[1:]], [[r.key, *_funnel_cells(r)[1:]] for r in months])
    steps = [("Leads", total.leads), ("MQL", total.mql), ("Accepted", total.accepted),
             ("Opportunity", total.opportunity), ("Won", total.won)]
    return render(request, "analytics/funnel.html", _context(
        request, f, teams, team, dim=dim, total=total, rows=by, months=months,
        funnel_chart=charts.funnel("Funnel", steps),
        by_chart=charts.hbars(f"Lead → won by {m.DIMENSIONS[dim].lower()}",
                              [(r.label, r.lead_to_won or 0, f"{r.lead_to_won or 0}% of {r.leads:,}") for r in by[:15]]),
        cohort_chart=charts.columns("Leads per monthly cohort, with lead → won %",
                                    [(r.label, r.leads) for r in months], rate=[r.lead_to_won for r in months]),
    ))


@login_required
def velocity(request: HttpRequest) -> HttpResponse:
    """Speed to lead, time in stage, sales cycle and win rate."""
    f, teams, team = filters_from(request)
    dim = _dim(request)
    total = m.funnel_total(f)
    by = m.funnel_by(f, dim, with_median=True)
    overall_median = m.median_cycle_days(f).get("")
    total.median_cycle_days = overall_median
    export = request.GET.get("export")
    if export == "speed":
        return _csv("speed-to-lead", f, [dim, "mqls", "responded", "within_5_min", "within_1_hour", "within_1_day",
                                          "never", "avg_minutes"],
                    [[r.label, r.mql, r.speed_n, r.speed_5m, r.speed_1h, r.speed_1d, r.unanswered, r.avg_speed_minutes]
                     for r in [total, *by]])
    if export == "stages":
        return _csv("time-in-stage", f, ["stage", "leads_that_left_it", "avg_days"],
                    [[label, total.stage_time[s][0], total.avg_stage_days(s)] for s, label in m.STAGES])
    if export == "cycle":
        return _csv("sales-cycle-win-rate", f, [dim, "won", "lost", "win_rate_pct", "avg_days_to_close", "median_days_to_close"],
                    [[r.label, r.won, r.lost, r.win_rate, r.avg_cycle_days, r.median_cycle_days]
                     for r in [total, *by]])
    speed_rows = [
        (r.label, r.speed_1h, f"{m.pct(r.speed_1h, r.mql) or 0}% within 1 h ({r.speed_1h:,} of {r.mql:,})") for r in by[:15]
    ]
    return render(request, "analytics/velocity.html", _context(
        request, f, teams, team, dim=dim, total=total, rows=by, overall_median=overall_median,
        stages=[(label, total.stage_time[s][0], total.avg_stage_days(s)) for s, label in m.STAGES],
        stage_chart=charts.hbars("Average days in stage", [
            (label, total.avg_stage_days(s) or 0, f"{total.avg_stage_days(s) or 0} d (n={total.stage_time[s][0]:,})")
            for s, label in m.STAGES]),
        speed_chart=charts.hbars("MQLs answered within an hour", speed_rows, max_value=max([r.mql for r in by[:15]] + [1])),
        win_chart=charts.hbars("Win rate (won of closed)", [(r.label, r.win_rate or 0, f"{r.win_rate or 0}% of {r.won + r.lost:,}") for r in by[:15]], max_value=100),
        cycle_chart=charts.hbars("Median days to close", [(r.label, r.median_cycle_days or 0, f"{r.median_cycle_days or '—'} d ({r.won:,} won)") for r in by[:15] if r.won]),
    ))


@login_required
def handoffs(request: HttpRequest) -> HttpResponse:
    """Acceptance by SDR and source, rejection reasons as a Pareto by source, consistency between reps."""
    f, teams, team = filters_from(request)
    by_sdr, by_source = m.acceptance_by(f, "sdr"), m.acceptance_by(f, "source")
    overall, per_source = m.rejection_pareto(f)
    reps = m.consistency(f)
    export = request.GET.get("export")
    acc_header = ["handed_off", "accepted", "rejected", "pending", "acceptance_pct"]
    if export in ("by_sdr", "by_source"):
        rows = by_sdr if export == "by_sdr" else by_source
        return _csv(f"acceptance-{export}", f, [export[3:], *acc_header],
                    [[r.label, r.handed_off, r.accepted, r.rejected, r.pending, r.rate] for r in rows])
    if export == "pareto":
        return _csv("rejection-reasons-by-source", f, ["source", "reason", "rejections", "share_pct", "cumulative_pct"],
                    [[p.label, b.reason, b.count, b.share, b.cumulative] for p in per_source for b in p.bars])
    if export == "consistency":
        return _csv("qualification-consistency", f, ["sdr", "decided", "accepted", "acceptance_pct", "comparable",
                                                      "peers_on_same_mix_pct", "gap_pp"],
                    [[r.label, r.decided, r.accepted, r.rate, r.comparable, r.expected, r.gap] for r in reps])
    return render(request, "analytics/handoffs.html", _context(
        request, f, teams, team, by_sdr=by_sdr, by_source=by_source, overall=overall, per_source=per_source, reps=reps,
        pareto_chart=charts.pareto_chart("Rejection reasons (Pareto)", [(b.reason, b.count, b.cumulative) for b in overall]),
        source_charts=[(p, charts.pareto_chart(p.label, [(b.reason, b.count, b.cumulative) for b in p.bars])) for p in per_source],
    ))


@login_required
def quality(request: HttpRequest) -> HttpResponse:
    """False-SQL rate from manager reviews, and SLA compliance."""
    f, teams, team = filters_from(request)
    by_rep, by_source = m.false_sql_rate(f, "sdr"), m.false_sql_rate(f, "source")
    sla = m.sla_compliance(f) or []
    export = request.GET.get("export")
    header = ["reviewed", "false_sql", "needs_follow_up", "false_sql_pct"]
    if export in ("false_sql_rep", "false_sql_source"):
        rows = by_rep if export == "false_sql_rep" else by_source
        return _csv(export.replace("_", "-"), f, ["rep" if export.endswith("rep") else "source", *header],
                    [[r.label, r.reviewed, r.false_sql, r.follow_up, r.rate] for r in rows])
    if export == "sla":
        return _csv("sla-compliance", f, ["kind", "clocks", "met", "breached", "open", "compliance_pct"],
                    [[r.label, r.total, r.met, r.breached, r.open, r.rate] for r in sla])
    return render(request, "analytics/quality.html", _context(
        request, f, teams, team, by_rep=by_rep, by_source=by_source, sla=sla,
        rep_chart=charts.hbars("False-SQL rate by rep", [(r.label, r.rate or 0, f"{r.rate or 0}% of {r.reviewed}") for r in by_rep], max_value=100),
        source_chart=charts.hbars("False-SQL rate by source", [(r.label, r.rate or 0, f"{r.rate or 0}% of {r.reviewed}") for r in by_source], max_value=100),
        sla_chart=charts.hbars("SLA compliance", [(r.label, r.rate or 0, f"{r.rate or 0}% of {r.decided}") for r in sla], max_value=100),
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
    return HttpResponseRedirect(request.POST.get("next") or reverse("analytics:funnel"))
