"""The metrics: funnel conversion, speed to lead, time in stage, sales cycle, win rate, handoff
acceptance and rejection reasons, qualification consistency between reps, false-SQL rate, SLA
compliance.

Funnel figures are cohort-based: a lead counts in the period it was created, and "reached X"
means its stage history ever reached X or a later funnel stage (see rollups.py). Each function is
one grouped query over the rollup tables (or the small review/SLA tables) for a date range and a
set of teams; the arithmetic on the results is plain Python so it is tested on hand-computed data.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth

from qualify.leads.models import DisqualifyReason, Persona, Segment, Source

from .models import FunnelRollup, HandoffRollup

DIMENSIONS = {
    "source": "Source",
    "campaign": "Campaign / channel",
    "segment": "Segment",
    "persona": "Persona",
    "sdr": "SDR (rep)",
    "ae": "AE",
}
FACT_COLUMN = {"source": "source", "campaign": "campaign", "segment": "segment", "persona": "persona",
               "sdr": "sdr_id", "ae": "ae_id"}
STAGES = (("new", "New"), ("mql", "MQL"), ("working", "Working"), ("handed_off", "Handed off"),
          ("accepted", "Accepted"), ("opportunity", "Opportunity"))
DAY = 86400.0


@dataclass(frozen=True)
class Filters:
    start: datetime.date
    end: datetime.date
    team_ids: tuple[int, ...]


def _month_after(d: datetime.date) -> datetime.date:
    return (d.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def grain_q(start: datetime.date, end: datetime.date) -> Q:
    """Rollup rows covering [start, end] exactly once: month rows for the whole months inside the
    range, day rows for the days before the first and after the last whole month."""
    first_full = start if start.day == 1 else _month_after(start)
    after_end = end + datetime.timedelta(days=1)
    last_full_end = after_end.replace(day=1)  # exclusive: the 1st after the last whole month
    if first_full >= last_full_end:
        return Q(grain="d", day__gte=start, day__lte=end)
    return (
        Q(grain="m", day__gte=first_full, day__lt=last_full_end)
        | Q(grain="d", day__gte=start, day__lt=first_full)
        | Q(grain="d", day__gte=last_full_end, day__lte=end)
    )


def pct(part: float, whole: float) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- labels ----------------------------------------------------------------------------------------


def labels_for(dim: str, keys) -> dict[str, str]:
    """Readable labels for rollup keys of `dim`: choice labels, user names. At most one query."""
    keys = list(keys)
    if dim in ("sdr", "ae"):
        from accounts.models import User

        ids = [int(k) for k in keys if k]
        names = {str(u.pk): str(u) for u in User.objects.filter(pk__in=ids)}
        return {k: names.get(k, "Unassigned" if not k else f"#{k}") for k in keys}
    choices = {"source": dict(Source.choices), "segment": dict(Segment.choices), "persona": dict(Persona.choices)}.get(dim)
    if choices is not None:
        return {k: (choices.get(k, k) if k else "Unknown") for k in keys}
    return {k: k or "(none)" for k in keys}


# --- funnel ----------------------------------------------------------------------------------------

SUMS = ("leads", "mql", "handed_off", "accepted", "opportunity", "won", "lost", "cycle_sum", "speed_n", "speed_sum",
        "speed_5m", "speed_1h", "speed_1d", *[f"t_{s}_{x}" for s, _ in STAGES for x in ("n", "sum")])


@dataclass
class FunnelRow:
    key: str
    label: str
    leads: int = 0
    mql: int = 0
    handed_off: int = 0
    accepted: int = 0
    opportunity: int = 0
    won: int = 0
    lost: int = 0
    cycle_sum: float = 0.0
    speed_n: int = 0
    speed_sum: float = 0.0
    speed_5m: int = 0
    speed_1h: int = 0
    speed_1d: int = 0
    stage_time: dict[str, tuple[int, float]] = field(default_factory=dict)
    median_cycle_days: float | None = None

    @property
    def mql_rate(self):
        return pct(self.mql, self.leads)

    @property
    def accept_rate(self):
        return pct(self.accepted, self.mql)

    @property
    def opp_rate(self):
        return pct(self.opportunity, self.accepted)

    @property
    def won_from_opp(self):
        return pct(self.won, self.opportunity)

    @property
    def lead_to_won(self):
        return pct(self.won, self.leads)

    @property
    def mql_to_won(self):
        return pct(self.won, self.mql)

    @property
    def win_rate(self):
        """Won over closed (won + lost)."""
        return pct(self.won, self.won + self.lost)

    @property
    def avg_cycle_days(self):
        return round(self.cycle_sum / self.won / DAY, 1) if self.won else None

    @property
    def avg_speed_minutes(self):
        return round(self.speed_sum / self.speed_n / 60, 1) if self.speed_n else None

    @property
    def unanswered(self) -> int:
        return self.mql - self.speed_n

    def avg_stage_days(self, stage: str):
        n, total = self.stage_time.get(stage, (0, 0.0))
        return round(total / n / DAY, 2) if n else None


def _row(key: str, label: str, agg: dict) -> FunnelRow:
    row = FunnelRow(key=key, label=label, **{k: agg.get(k) or 0 for k in SUMS if not k.startswith("t_")})
    row.stage_time = {s: (agg.get(f"t_{s}_n") or 0, agg.get(f"t_{s}_sum") or 0.0) for s, _ in STAGES}
    return row


def _base(f: Filters, dim: str):
    return FunnelRollup.objects.filter(grain_q(f.start, f.end), dim=dim, team_id__in=f.team_ids)


def funnel_total(f: Filters) -> FunnelRow:
    """Totals for the whole selection. One query."""
    agg = _base(f, "all").aggregate(**{k: Sum(k) for k in SUMS})
    return _row("", "All leads", agg)


def funnel_by(f: Filters, dim: str, *, with_median: bool = False) -> list[FunnelRow]:
    """One row per key of `dim`, most leads first. One query (+1 for user names, +1 for medians)."""
    if dim not in DIMENSIONS:
        raise ValueError(f"unknown dimension {dim!r}")
    rows = list(_base(f, dim).values("key").annotate(**{k: Sum(k) for k in SUMS}).order_by("-leads", "key"))
    labels = labels_for(dim, [r["key"] for r in rows])
    out = [_row(r["key"], labels[r["key"]], r) for r in rows]
    if with_median:
        medians = median_cycle_days(f, dim)
        for r in out:
            r.median_cycle_days = medians.get(r.key)
    return out


def cohorts(f: Filters) -> list[FunnelRow]:
    """One row per month of lead creation. One query."""
    rows = (
        _base(f, "all").annotate(month=TruncMonth("day")).values("month")
        .annotate(**{k: Sum(k) for k in SUMS}).order_by("month")
    )
    return [_row(r["month"].strftime("%Y-%m"), r["month"].strftime("%b %Y"), r) for r in rows]


def median_cycle_days(f: Filters, dim: str | None = None) -> dict[str, float]:
    """Median days from creation to won per key (or {"": median} without `dim`), exact, from the
    narrow WonDeal table. One query."""
    col = FACT_COLUMN[dim] if dim else "''"
    key = f"COALESCE({col}::text, '')" if dim in ("sdr", "ae") else col
    with connection.cursor() as c:
        c.execute(
            f"""SELECT {key} AS k, percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
                FROM analytics_wondeal
                WHERE team_id = ANY(%s) AND cohort_day BETWEEN %s AND %s
                GROUP BY 1""",
            [list(f.team_ids), f.start, f.end],
        )
        return {k: round(v / DAY, 2) for k, v in c.fetchall()}


# --- handoffs --------------------------------------------------------------------------------------


@dataclass
class Acceptance:
    key: str
    label: str
    handed_off: int
    accepted: int
    rejected: int
    pending: int

    @property
    def rate(self):
        return pct(self.accepted, self.accepted + self.rejected)


@dataclass(frozen=True)
class HandoffCell:
    sdr: str
    source: str
    segment: str
    status: str
    reason_id: int | None
    n: int


def handoff_cells(f: Filters) -> list[HandoffCell]:
    """Handoffs created in the range, summed by SDR, source, segment, status and reason: one scan
    of the rollup that every handoff table on the page is then computed from in Python."""
    rows = (
        HandoffRollup.objects.filter(grain_q(f.start, f.end), team_id__in=f.team_ids)
        .values_list("sdr_id", "source", "segment", "status", "reason_id").annotate(total=Sum("n")).order_by()
    )
    return [HandoffCell("" if sdr is None else str(sdr), source, segment, status, reason, n)
            for sdr, source, segment, status, reason, n in rows]


def acceptance_by(f: Filters, dim: str, cells: list[HandoffCell] | None = None) -> list[Acceptance]:
    """Handoffs created in the range by SDR or source, with acceptance over decided ones."""
    cells = handoff_cells(f) if cells is None else cells
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cell in cells:
        counts[getattr(cell, dim)][cell.status] += cell.n
    labels = labels_for(dim, counts)
    rows = [
        Acceptance(k, labels[k], sum(c.values()), c["accepted"], c["rejected"], c["pending"]) for k, c in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.handed_off, r.label))


@dataclass
class ParetoBar:
    reason: str
    count: int
    share: float
    cumulative: float


@dataclass
class Pareto:
    source: str
    label: str
    total: int
    bars: list[ParetoBar]


def pareto(counts: list[tuple[str, int]]) -> list[ParetoBar]:
    """Bars sorted by count (ties by name) with each one's share and the running total, in %."""
    total = sum(n for _, n in counts)
    bars, running = [], 0
    for reason, n in sorted(counts, key=lambda x: (-x[1], x[0])):
        running += n
        bars.append(ParetoBar(reason, n, pct(n, total) or 0.0, pct(running, total) or 0.0))
    return bars


def rejection_pareto(f: Filters, cells: list[HandoffCell] | None = None) -> tuple[list[ParetoBar], list[Pareto]]:
    """Rejection reasons overall and per source, each as a Pareto. One query for the reason names."""
    cells = handoff_cells(f) if cells is None else cells
    rejected = [c for c in cells if c.status == "rejected"]
    names = dict(DisqualifyReason.objects.filter(pk__in={c.reason_id for c in rejected}).values_list("pk", "name"))
    overall: dict[str, int] = defaultdict(int)
    by_source: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for c in rejected:
        name = names.get(c.reason_id, "—")
        overall[name] += c.n
        by_source[c.source][name] += c.n
    labels = labels_for("source", by_source)
    per_source = [
        Pareto(s, labels[s], sum(c.values()), pareto(list(c.items())))
        for s, c in sorted(by_source.items(), key=lambda kv: -sum(kv[1].values()))
    ]
    return pareto(list(overall.items())), per_source


@dataclass
class RepConsistency:
    rep: str
    label: str
    decided: int
    accepted: int
    comparable: int  # decided handoffs in strata where other reps also had decided handoffs
    expected: float | None  # acceptance the peers got on the same mix of leads, in %

    @property
    def rate(self):
        return pct(self.accepted, self.decided)

    @property
    def gap(self):
        return round(self.rate - self.expected, 1) if self.rate is not None and self.expected is not None else None


def consistency_from(rows: list[tuple[str, str, int, int]]) -> list[RepConsistency]:
    """Pure: rows of (rep, stratum, accepted, decided) → each rep's acceptance next to what their
    peers got on similar leads (same stratum), weighted by the rep's own mix:
    expected = Σ_s decided(rep, s) · peer_rate(s) / Σ_s decided(rep, s), where peer_rate leaves the
    rep out. A large gap means the rep's idea of "qualified" differs from the team's."""
    by_stratum: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for _, s, acc, dec in rows:
        by_stratum[s][0] += acc
        by_stratum[s][1] += dec
    reps: dict[str, dict] = defaultdict(lambda: {"acc": 0, "dec": 0, "cmp": 0, "exp": 0.0})
    for rep, s, acc, dec in rows:
        r = reps[rep]
        r["acc"] += acc
        r["dec"] += dec
        peer_acc, peer_dec = by_stratum[s][0] - acc, by_stratum[s][1] - dec
        if peer_dec and dec:
            r["cmp"] += dec
            r["exp"] += dec * peer_acc / peer_dec
    return [
        RepConsistency(rep, rep, r["dec"], r["acc"], r["cmp"], round(100 * r["exp"] / r["cmp"], 1) if r["cmp"] else None)
        for rep, r in sorted(reps.items(), key=lambda kv: -kv[1]["dec"])
    ]


def consistency(f: Filters, cells: list[HandoffCell] | None = None) -> list[RepConsistency]:
    """Per SDR, acceptance vs peers on similar leads (stratum = source × segment). Names: one query."""
    cells = handoff_cells(f) if cells is None else cells
    grid: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in cells:
        if c.status in ("accepted", "rejected"):
            g = grid[(c.sdr, f"{c.source}|{c.segment}")]
            g[0] += c.n if c.status == "accepted" else 0
            g[1] += c.n
    out = consistency_from([(rep, stratum, acc, dec) for (rep, stratum), (acc, dec) in grid.items()])
    labels = labels_for("sdr", [r.rep for r in out])
    for r in out:
        r.label = labels[r.rep]
    return out


# --- review verdicts -------------------------------------------------------------------------------


@dataclass
class FalseSqlRate:
    key: str
    label: str
    reviewed: int
    false_sql: int
    follow_up: int

    @property
    def rate(self):
        return pct(self.false_sql, self.reviewed)


def false_sql_rate(f: Filters, dim: str) -> list[FalseSqlRate]:
    """Share of reviewed items judged false SQL, by rep or source, for reviews done in the range."""
    from qualify.reviews.models import ReviewItem

    col = {"sdr": "rep_id", "source": "source"}[dim]
    rows = (
        ReviewItem.objects.exclude(verdict="")
        .filter(queue__team_id__in=f.team_ids, reviewed_at__date__gte=f.start, reviewed_at__date__lte=f.end)
        .values(col).annotate(n=Count("id"), fs=Count("id", filter=Q(verdict="false_sql")),
                               fu=Count("id", filter=Q(verdict="needs_follow_up")))
        .order_by("-n")
    )
    keys = [str(r[col]) if r[col] is not None else "" for r in rows]
    labels = labels_for(dim, keys)
    return [FalseSqlRate(k, labels[k], r["n"], r["fs"], r["fu"]) for k, r in zip(keys, rows)]


# --- SLA -------------------------------------------------------------------------------------------


@dataclass
class SlaRow:
    key: str
    label: str
    total: int
    met: int
    late: int
    breached_open: int
    open: int

    @property
    def breached(self) -> int:
        return self.late + self.breached_open

    @property
    def decided(self) -> int:
        """Clocks whose outcome is known: met, met late, or past due and still running."""
        return self.met + self.breached

    @property
    def rate(self):
        return pct(self.met, self.decided)


def sla_compliance(f: Filters) -> list[SlaRow] | None:
    """Per clock kind (and overall, first), clocks started in the range: met in time, met late,
    breached and still running, running in time. Cancelled clocks are left out. None when the SLA
    app has no clock table. One query over qualify.sla's Clock."""
    from django.apps import apps

    try:
        Clock = apps.get_model("sla", "Clock")
    except LookupError:
        return None
    kinds = dict(Clock._meta.get_field("kind").choices)
    rows = (
        Clock.objects.filter(team_id__in=f.team_ids, started_at__date__gte=f.start, started_at__date__lte=f.end)
        .exclude(status="cancelled")
        .values("kind")
        .annotate(
            n=Count("id"), met=Count("id", filter=Q(status="met")), late=Count("id", filter=Q(status="late")),
            bo=Count("id", filter=Q(status="open", breached_at__isnull=False)),
            op=Count("id", filter=Q(status="open", breached_at__isnull=True)),
        )
        .order_by("kind")
    )
    out = [SlaRow(r["kind"], str(kinds.get(r["kind"], r["kind"])), r["n"], r["met"], r["late"], r["bo"], r["op"]) for r in rows]
    if out:
        out.insert(0, SlaRow("", "All clocks", *(sum(getattr(r, a) for r in out) for a in ("total", "met", "late", "breached_open", "open"))))
    return out
