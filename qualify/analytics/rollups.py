"""Rebuild the reporting tables (LeadFact, FunnelRollup, HandoffRollup) from the history.

Everything is set-based SQL run in one transaction, so dashboards keep reading the previous
figures (MVCC) until the new ones commit. `refresh()` is incremental: it recomputes the facts of
leads touched since the last run (new stage changes or touches by id watermark, lead rows by
updated_at) and adds the difference between their new and old facts to the rollup cells (every
rollup measure is a sum, so a delta applies exactly). `refresh(full=True)`
recomputes everything; beat runs it nightly so rarely-tracked changes (an account's segment, a
deleted lead) are picked up. Two refreshes never overlap: a transaction-level advisory lock makes
the second one return at once.

Cost, measured at 1,000,000 leads / 5,000,000 stage changes on the 2-core bench box: see
bench/analytics.py (full refresh tens of seconds; a 5-minute incremental refresh, typically a
few thousand leads, well under a second).
"""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from qualify.leads.models import Stage

from .models import RefreshState

LOCK_KEY = 7_311_001  # pg advisory lock id for refreshes
ID_SAFETY = 1_000  # rescan this many ids below the watermark: rows of transactions that committed late
TIME_SAFETY = datetime.timedelta(minutes=10)

MQL_OR_LATER = (Stage.MQL, Stage.WORKING, Stage.HANDED_OFF, Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON)
ACCEPTED_OR_LATER = (Stage.ACCEPTED, Stage.OPPORTUNITY, Stage.WON)
OPPORTUNITY_OR_LATER = (Stage.OPPORTUNITY, Stage.WON)
TIMED = ("new", "mql", "working", "handed_off", "accepted", "opportunity")


def _in(values) -> str:
    return "(" + ", ".join(f"'{str(v)}'" for v in values) + ")"


def _facts_sql(lead_filter: str) -> str:
    timed = ",\n    ".join(
        f"sum(extract(epoch FROM left_at - at)) FILTER (WHERE to_stage = '{s}' AND left_at IS NOT NULL) AS t_{s}"
        for s in TIMED
    )
    return f"""
INSERT INTO analytics_leadfact (
  lead_id, team_id, created_at, cohort_day, source, segment, persona, campaign, sdr_id, ae_id, stage,
  mql_at, handed_off_at, accepted_at, opportunity_at, won_at, lost_at, first_response_at,
  {", ".join(f"t_{s}" for s in TIMED)})
WITH l AS (
  SELECT l.id, l.team_id, l.created_at, l.source, l.persona, l.campaign, l.owner_id, l.ae_id, l.stage, a.segment
  FROM leads_lead l JOIN leads_account a ON a.id = l.account_id
  WHERE {lead_filter}
), sc AS (
  SELECT s.lead_id, s.to_stage, s.at, s.id, s.by_id FROM leads_stagechange s JOIN l ON l.id = s.lead_id
  UNION ALL
  -- Leads created without a "created" history row start in New at created_at.
  SELECT l.id, 'new', l.created_at, 0, NULL FROM l
  WHERE NOT EXISTS (SELECT 1 FROM leads_stagechange s WHERE s.lead_id = l.id AND s.from_stage = '')
), iv AS (
  SELECT lead_id, to_stage, at, id, by_id, lead(at) OVER (PARTITION BY lead_id ORDER BY at, id) AS left_at FROM sc
), p AS (
  SELECT lead_id,
    min(at) FILTER (WHERE to_stage IN {_in(MQL_OR_LATER)}) AS mql_at,
    min(at) FILTER (WHERE to_stage = 'handed_off') AS handed_off_at,
    min(at) FILTER (WHERE to_stage IN {_in(ACCEPTED_OR_LATER)}) AS accepted_at,
    min(at) FILTER (WHERE to_stage IN {_in(OPPORTUNITY_OR_LATER)}) AS opportunity_at,
    min(at) FILTER (WHERE to_stage = 'won') AS won_at,
    min(at) FILTER (WHERE to_stage = 'lost') AS lost_at,
    (array_agg(by_id ORDER BY at, id) FILTER (WHERE to_stage = 'handed_off' AND by_id IS NOT NULL))[1] AS handed_by,
    (array_agg(by_id ORDER BY at, id) FILTER (WHERE to_stage = 'working' AND by_id IS NOT NULL))[1] AS worked_by,
    (array_agg(by_id ORDER BY at, id) FILTER (WHERE to_stage = 'accepted' AND by_id IS NOT NULL))[1] AS accepted_by,
    {timed}
  FROM iv GROUP BY lead_id
), ft AS (
  SELECT t.lead_id, min(t.occurred_at) AS first_response_at
  FROM leads_touch t JOIN p ON p.lead_id = t.lead_id
  WHERE p.mql_at IS NOT NULL AND t.occurred_at >= p.mql_at
  GROUP BY t.lead_id
)
SELECT l.id, l.team_id, l.created_at, (l.created_at AT TIME ZONE %(tz)s)::date, l.source, COALESCE(l.segment, ''),
  l.persona, l.campaign, COALESCE(p.handed_by, p.worked_by, l.owner_id), COALESCE(l.ae_id, p.accepted_by), l.stage,
  p.mql_at, p.handed_off_at, p.accepted_at, p.opportunity_at, p.won_at, p.lost_at, ft.first_response_at,
  {", ".join(f"p.t_{s}" for s in TIMED)}
FROM l JOIN p ON p.lead_id = l.id LEFT JOIN ft ON ft.lead_id = l.id
"""


DIMS = ("source", "segment", "persona", "campaign", "sdr_id", "ae_id")
DIM_NAMES = {"sdr_id": "sdr", "ae_id": "ae"}


def _measures(w: str) -> list[tuple[str, str]]:
    """Rollup columns and their aggregate over facts, each fact weighted by `w`: "1" when building
    from the facts, "sign" (+1 new, -1 old) when applying a delta. Every measure is a sum, so
    deltas add up exactly (floating-point sums may drift by rounding until the nightly rebuild)."""

    def n(col: str) -> str:
        return f"COALESCE(sum({w}) FILTER (WHERE {col} IS NOT NULL), 0)"

    def within(interval: str) -> str:
        return f"COALESCE(sum({w}) FILTER (WHERE first_response_at - mql_at <= interval '{interval}'), 0)"

    return [
        ("leads", f"sum({w})"), ("mql", n("mql_at")), ("handed_off", n("handed_off_at")), ("accepted", n("accepted_at")),
        ("opportunity", n("opportunity_at")), ("won", n("won_at")), ("lost", n("lost_at")),
        ("cycle_sum", f"COALESCE(sum({w} * extract(epoch FROM won_at - created_at)), 0)"),
        ("speed_n", n("first_response_at")),
        ("speed_sum", f"COALESCE(sum({w} * extract(epoch FROM first_response_at - mql_at)), 0)"),
        ("speed_5m", within("5 minutes")), ("speed_1h", within("1 hour")), ("speed_1d", within("1 day")),
        *[(f"t_{s}_{x}", n(f"t_{s}") if x == "n" else f"COALESCE(sum({w} * t_{s}), 0)") for s in TIMED for x in ("n", "sum")],
    ]


# Rollup rows come in two grains: per day, and per month (day = the 1st). A date range reads the
# month rows of the whole months inside it and day rows only for the ragged ends (metrics.grain_q),
# so two years cost ~24 + ~60 rows per key instead of 730.
GRAINS = {"d": "cohort_day", "m": "date_trunc('month', cohort_day)::date"}


def _rollup_sql(source: str, w: str = "1", *, grain: str = "d", upsert: bool = False) -> str:
    """INSERT the rollup rows of the facts in `source` (a table or subquery aliased f) at `grain`.
    With `upsert`, rows add into existing cells instead (the incremental delta)."""
    day = GRAINS[grain]
    dim_case = " ".join(f"WHEN GROUPING({d}) = 0 THEN '{DIM_NAMES.get(d, d)}'" for d in DIMS)
    key_case = " ".join(
        f"WHEN GROUPING({d}) = 0 THEN " + (f"COALESCE({d}::text, '')" if d.endswith("_id") else d) for d in DIMS
    )
    measures = _measures(w)
    sets = ", ".join(["()"] + [f"({d})" for d in DIMS])
    sql = f"""
INSERT INTO analytics_funnelrollup (grain, day, team_id, dim, key, {", ".join(name for name, _ in measures)})
SELECT '{grain}', {day}, team_id, CASE {dim_case} ELSE 'all' END, CASE {key_case} ELSE '' END,
  {", ".join(expr for _, expr in measures)}
FROM {source}
GROUP BY {day}, team_id, GROUPING SETS ({sets})
"""
    if upsert:
        return sql + "ON CONFLICT (dim, team_id, grain, day, key) DO UPDATE SET " + ", ".join(
            f"{name} = analytics_funnelrollup.{name} + EXCLUDED.{name}" for name, _ in measures
        )
    # Written in the order dashboards read (dim, team, day), so their index range scans read few pages.
    return sql + "ORDER BY 4, 3, 2"


def _handoff_sql(where: str, grain: str = "d") -> str:
    day = "(h.created_at AT TIME ZONE %(tz)s)::date"
    if grain == "m":
        day = f"date_trunc('month', {day})::date"
    return f"""
INSERT INTO analytics_handoffrollup (grain, day, team_id, sdr_id, source, segment, status, reason_id, n, wait_sum)
SELECT '{grain}', {day}, h.team_id, h.from_user_id, h.source, COALESCE(a.segment, ''), h.status,
  h.reason_id, count(*), COALESCE(sum(extract(epoch FROM h.decided_at - h.created_at)) FILTER (WHERE h.decided_at IS NOT NULL), 0)
FROM handoff_handoff h JOIN leads_lead l ON l.id = h.lead_id JOIN leads_account a ON a.id = l.account_id
WHERE {where}
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ORDER BY 3, 2
"""


WON_SQL = """
INSERT INTO analytics_wondeal (lead_id, team_id, cohort_day, source, segment, persona, campaign, sdr_id, ae_id, seconds)
SELECT lead_id, team_id, cohort_day, source, segment, persona, campaign, sdr_id, ae_id, extract(epoch FROM won_at - created_at)
FROM analytics_leadfact WHERE won_at IS NOT NULL AND {where}
ORDER BY team_id, cohort_day
"""


@dataclass
class RefreshResult:
    ran: bool
    full: bool = False
    leads: int = 0
    cells: int = 0
    seconds: float = 0.0


def refresh(*, full: bool = False) -> RefreshResult:
    """Bring the reporting tables up to date; see the module docstring. Returns what it did."""
    started = time.monotonic()
    tz = settings.TIME_ZONE
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
        if not c.fetchone()[0]:
            return RefreshResult(ran=False)
        state, _ = RefreshState.objects.select_for_update().get_or_create(pk=1)
        c.execute("SELECT COALESCE(max(id), 0) FROM leads_stagechange")
        max_sc = c.fetchone()[0]
        c.execute("SELECT COALESCE(max(id), 0) FROM leads_touch")
        max_touch = c.fetchone()[0]
        now = timezone.now()
        full = full or state.refreshed_at is None
        if full:
            c.execute("DELETE FROM analytics_leadfact")
            c.execute(_facts_sql("TRUE"), {"tz": tz})
            leads = c.rowcount
            c.execute("DELETE FROM analytics_funnelrollup")
            c.execute(_rollup_sql("analytics_leadfact f", grain="d"))
            c.execute(_rollup_sql("analytics_leadfact f", grain="m"))
            c.execute("DELETE FROM analytics_wondeal")
            c.execute(WON_SQL.format(where="TRUE"))
            c.execute("DELETE FROM analytics_handoffrollup")
            c.execute(_handoff_sql("TRUE", "d"), {"tz": tz})
            c.execute(_handoff_sql("TRUE", "m"), {"tz": tz})
            cells = -1
        else:
            leads, cells = _incremental(c, state, tz)
            _incremental_handoffs(c, state, tz)
        # Fresh statistics: the planner otherwise sees the rewritten tables as empty and picks
        # the wrong index. Costs a sample of each table (well under a second at 1M leads).
        c.execute("ANALYZE analytics_funnelrollup, analytics_handoffrollup, analytics_wondeal" + (", analytics_leadfact" if full else ""))
        state.stagechange_id, state.touch_id, state.refreshed_at = max_sc, max_touch, now
        if full:
            state.full_at = now
        state.last_leads, state.last_seconds = leads, round(time.monotonic() - started, 3)
        state.save()
    if full and not connection.in_atomic_block:
        # A full rebuild leaves every old row dead: reclaim them now rather than whenever autovacuum
        # gets there, so the dashboards' scans stay dense. (Not possible inside a transaction.)
        with connection.cursor() as c:
            c.execute("VACUUM (ANALYZE) analytics_leadfact, analytics_funnelrollup, analytics_wondeal, analytics_handoffrollup")
    return RefreshResult(ran=True, full=full, leads=leads, cells=cells, seconds=state.last_seconds)


def _incremental(c, state: RefreshState, tz: str) -> tuple[int, int]:
    """Recompute the facts of the leads that changed, and apply the difference (new facts minus
    old facts) to the rollup cells: the cost follows the number of changed leads, not the size of
    the cohorts they belong to. Returns (leads recomputed, (team, day) cells touched)."""
    c.execute(
        """
        SELECT lead_id FROM leads_stagechange WHERE id > %(sc)s
        UNION SELECT lead_id FROM leads_touch WHERE id > %(touch)s
        UNION SELECT id FROM leads_lead WHERE updated_at > %(since)s
        """,
        {"sc": max(state.stagechange_id - ID_SAFETY, 0), "touch": max(state.touch_id - ID_SAFETY, 0),
         "since": state.refreshed_at - TIME_SAFETY},
    )
    ids = [r[0] for r in c.fetchall()]
    if not ids:
        return 0, 0
    c.execute(
        "CREATE TEMP TABLE analytics_old_facts ON COMMIT DROP AS SELECT * FROM analytics_leadfact WHERE lead_id = ANY(%(ids)s)",
        {"ids": ids},
    )
    c.execute("DELETE FROM analytics_leadfact WHERE lead_id = ANY(%(ids)s)", {"ids": ids})
    c.execute(_facts_sql("l.id = ANY(%(ids)s)"), {"tz": tz, "ids": ids})
    leads = c.rowcount
    c.execute("DELETE FROM analytics_wondeal WHERE lead_id = ANY(%(ids)s)", {"ids": ids})
    c.execute(WON_SQL.format(where="lead_id = ANY(%(ids)s)"), {"ids": ids})
    delta = (
        "(SELECT f.*, 1 AS sign FROM analytics_leadfact f WHERE f.lead_id = ANY(%(ids)s)"
        " UNION ALL SELECT o.*, -1 AS sign FROM analytics_old_facts o) f"
    )
    for grain in GRAINS:
        c.execute(_rollup_sql(delta, "sign", grain=grain, upsert=True), {"ids": ids})
    c.execute(
        """SELECT count(*) FROM (SELECT team_id, cohort_day FROM analytics_leadfact WHERE lead_id = ANY(%(ids)s)
           UNION SELECT team_id, cohort_day FROM analytics_old_facts) cells""",
        {"ids": ids},
    )
    cells = c.fetchone()[0]
    # Cells whose last lead moved away (a lead changed team or was re-dated) are empty now.
    c.execute("DELETE FROM analytics_funnelrollup WHERE leads = 0")
    c.execute("DROP TABLE analytics_old_facts")
    return leads, cells


def _incremental_handoffs(c, state: RefreshState, tz: str) -> None:
    """Rebuild the handoff rollup for the days (and months) of handoffs created or decided since
    the last run, usually just today's, not the whole table. Handoffs are only ever created and
    decided "now" (imports do not create them), so their timestamps are a safe watermark."""
    c.execute(
        """SELECT DISTINCT (created_at AT TIME ZONE %(tz)s)::date FROM handoff_handoff
           WHERE created_at > %(since)s OR decided_at > %(since)s""",
        {"tz": tz, "since": state.refreshed_at - TIME_SAFETY},
    )
    days = [r[0] for r in c.fetchall()]
    if not days:
        return
    months = sorted({d.replace(day=1) for d in days})
    c.execute("DELETE FROM analytics_handoffrollup WHERE grain = 'd' AND day = ANY(%(days)s)", {"days": days})
    c.execute(_handoff_sql("(h.created_at AT TIME ZONE %(tz)s)::date = ANY(%(days)s)", "d"), {"tz": tz, "days": days})
    c.execute("DELETE FROM analytics_handoffrollup WHERE grain = 'm' AND day = ANY(%(months)s)", {"months": months})
    c.execute(
        _handoff_sql("date_trunc('month', (h.created_at AT TIME ZONE %(tz)s))::date = ANY(%(months)s)", "m"),
        {"tz": tz, "months": months},
    )


def refreshed_at() -> datetime.datetime | None:
    state = RefreshState.objects.filter(pk=1).only("refreshed_at").first()
    return state.refreshed_at if state else None
