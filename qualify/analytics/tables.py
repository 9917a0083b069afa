"""Every metrics table as (header, rows): what the CSV exports and the API return."""

from __future__ import annotations

from collections.abc import Callable

from . import metrics as m

Table = tuple[list[str], list[list]]

FUNNEL_COLS = ["leads", "mql", "accepted", "opportunity", "won", "lost", "lead_to_mql_pct", "mql_to_accepted_pct",
               "accepted_to_opportunity_pct", "opportunity_to_won_pct", "lead_to_won_pct", "win_rate_pct"]


def _funnel_cells(r: m.FunnelRow) -> list:
    return [r.leads, r.mql, r.accepted, r.opportunity, r.won, r.lost, r.mql_rate, r.accept_rate, r.opp_rate,
            r.won_from_opp, r.lead_to_won, r.win_rate]


def funnel(f: m.Filters, dim: str) -> Table:
    rows = [m.funnel_total(f), *m.funnel_by(f, dim)]
    return [dim, *FUNNEL_COLS], [[r.label, *_funnel_cells(r)] for r in rows]


def cohorts(f: m.Filters, dim: str) -> Table:
    return ["month", *FUNNEL_COLS], [[r.key, *_funnel_cells(r)] for r in m.cohorts(f)]


def speed(f: m.Filters, dim: str) -> Table:
    rows = [m.funnel_total(f), *m.funnel_by(f, dim)]
    return ([dim, "mqls", "responded", "within_5_min", "within_1_hour", "within_1_day", "never", "avg_minutes"],
            [[r.label, r.mql, r.speed_n, r.speed_5m, r.speed_1h, r.speed_1d, r.unanswered, r.avg_speed_minutes] for r in rows])


def stages(f: m.Filters, dim: str) -> Table:
    t = m.funnel_total(f)
    return ["stage", "leads_that_left_it", "avg_days"], [[label, t.stage_time[s][0], t.avg_stage_days(s)] for s, label in m.STAGES]


def cycle(f: m.Filters, dim: str) -> Table:
    total = m.funnel_total(f)
    total.median_cycle_days = m.median_cycle_days(f).get("")
    rows = [total, *m.funnel_by(f, dim, with_median=True)]
    return ([dim, "won", "lost", "win_rate_pct", "avg_days_to_close", "median_days_to_close"],
            [[r.label, r.won, r.lost, r.win_rate, r.avg_cycle_days, r.median_cycle_days] for r in rows])


def _acceptance(by: str) -> Callable[[m.Filters, str], Table]:
    def table(f: m.Filters, dim: str) -> Table:
        return ([by, "handed_off", "accepted", "rejected", "pending", "acceptance_pct"],
                [[r.label, r.handed_off, r.accepted, r.rejected, r.pending, r.rate] for r in m.acceptance_by(f, by)])

    return table


def pareto(f: m.Filters, dim: str) -> Table:
    _, per_source = m.rejection_pareto(f)
    return (["source", "reason", "rejections", "share_pct", "cumulative_pct"],
            [[p.label, b.reason, b.count, b.share, b.cumulative] for p in per_source for b in p.bars])


def consistency(f: m.Filters, dim: str) -> Table:
    return (["sdr", "decided", "accepted", "acceptance_pct", "comparable", "peers_on_same_mix_pct", "gap_pp"],
            [[r.label, r.decided, r.accepted, r.rate, r.comparable, r.expected, r.gap] for r in m.consistency(f)])


def _false_sql(by: str) -> Callable[[m.Filters, str], Table]:
    def table(f: m.Filters, dim: str) -> Table:
        return (["rep" if by == "sdr" else "source", "reviewed", "false_sql", "needs_follow_up", "false_sql_pct"],
                [[r.label, r.reviewed, r.false_sql, r.follow_up, r.rate] for r in m.false_sql_rate(f, by)])

    return table


def sla(f: m.Filters, dim: str) -> Table:
    return (["kind", "clocks", "met", "met_late", "breached_running", "running", "compliance_pct"],
            [[r.label, r.total, r.met, r.late, r.breached_open, r.open, r.rate] for r in m.sla_compliance(f) or []])


TABLES: dict[str, Callable[[m.Filters, str], Table]] = {
    "funnel": funnel, "cohorts": cohorts, "speed": speed, "stages": stages, "cycle": cycle,
    "by_sdr": _acceptance("sdr"), "by_source": _acceptance("source"), "pareto": pareto, "consistency": consistency,
    "false_sql_rep": _false_sql("sdr"), "false_sql_source": _false_sql("source"), "sla": sla,
}
