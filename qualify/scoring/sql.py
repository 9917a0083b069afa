"""The bulk path: a model version compiled to one set-based SQL statement.

`compile_batch(spec)` renders SQL that, for the leads in %(ids)s, computes fit from lead/account
columns and engagement from leads_event with the exact semantics of engine.py: events matched to
rules in one pass (an array of CASEs unnested), aggregated per (lead, rule, window) with GROUP BY,
rule and group caps applied pro rata with window functions, decay summed to %(at_us)s. It writes
the result onto leads_lead in the same statement and returns the leads that should become MQLs.
No event is brought into Python.

Rule values are inlined as SQL literals (escaped by `lit`); the statement is cached per version.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import engine
from .engine import ModelSpec

# How each condition field reads in SQL (l = leads_lead, a = leads_account).
FIELD_SQL = {
    "seniority": "l.seniority",
    "persona": "l.persona",
    "department": "l.department",
    "title": "l.title",
    "source": "l.source",
    "campaign": "l.campaign",
    "email": "l.email",
    "email_domain": "split_part(l.email, '@', 2)",
    "account.industry": "a.industry",
    "account.employee_count": "a.employee_count",
    "account.revenue_band": "a.revenue_band",
    "account.segment": "a.segment",
    "account.region": "a.region",
    "account.country": "a.country",
    "account.domain": "a.domain",
}


def lead_facts(lead: Any) -> dict[str, Any]:
    """The same fields as FIELD_SQL, read from a Lead with its account loaded."""
    account = lead.account
    email = lead.email or ""
    return {
        "seniority": lead.seniority,
        "persona": lead.persona,
        "department": lead.department,
        "title": lead.title,
        "source": lead.source,
        "campaign": lead.campaign,
        "email": email,
        "email_domain": email.partition("@")[2],
        "account.industry": account.industry,
        "account.employee_count": account.employee_count,
        "account.revenue_band": account.revenue_band,
        "account.segment": account.segment,
        "account.region": account.region,
        "account.country": account.country,
        "account.domain": account.domain,
    }


def lit(value: Any) -> str:
    """A SQL literal for a number or string from a (validated) model spec."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def _text(expr: str) -> str:
    return f"lower(btrim(coalesce(({expr})::text, '')))"


def condition_sql(op: str, value: str, expr: str) -> str:
    """engine.matches() as SQL over `expr`."""
    if op == "equals":
        return f"{_text(expr)} = {lit(engine.text(value))}"
    if op == "one_of":
        items = ", ".join(lit(v) for v in engine.parse_list(value))
        return f"{_text(expr)} IN ({items})"
    if op == "contains":
        return f"strpos({_text(expr)}, {lit(engine.text(value))}) > 0"
    if op == "range":
        lo, hi = engine.parse_range(value)
        num = f"(CASE WHEN {_text(expr)} ~ '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([e][-+]?[0-9]+)?$' THEN ({_text(expr)})::float8 END)"
        parts = []
        if lo is not None:
            parts.append(f"{num} >= {lit(float(lo))}")
        if hi is not None:
            parts.append(f"{num} <= {lit(float(hi))}")
        return "coalesce(" + " AND ".join(parts) + ", false)"
    raise ValueError(op)


def segment_sql(spec: ModelSpec) -> str:
    if not spec.segment:
        return "true"
    return " AND ".join(f"({condition_sql(c.op, c.value, FIELD_SQL[c.field])})" for c in spec.segment)


def fit_sql(spec: ModelSpec) -> str:
    """Fit points: per group LEAST(cap, positives) + negatives; the positive total capped again."""
    groups = spec.group_map()
    pos_terms, neg_terms = [], []
    by_group: dict[int, list] = {}
    for rule in spec.fit_rules():
        by_group.setdefault(rule.group, []).append(rule)
    for gkey, rules in by_group.items():
        group = groups[gkey]
        pos = [r for r in rules if r.points > 0]
        neg = [r for r in rules if r.points < 0]
        if pos:
            s = " + ".join(
                f"(CASE WHEN {condition_sql(r.op, r.value, FIELD_SQL[r.field])} THEN {lit(float(r.points))} ELSE 0 END)"
                for r in pos
            )
            pos_terms.append(f"LEAST({lit(float(group.cap))}, {s})" if group.cap is not None else f"({s})")
        for r in neg:
            neg_terms.append(
                f"(CASE WHEN {condition_sql(r.op, r.value, FIELD_SQL[r.field])} THEN {lit(float(r.points))} ELSE 0 END)"
            )
    pos_sql = " + ".join(pos_terms) or "0"
    if spec.fit_cap is not None:
        pos_sql = f"LEAST({lit(float(spec.fit_cap))}, {pos_sql})"
    neg_sql = " + ".join(neg_terms) or "0"
    return f"(({pos_sql})::float8 + ({neg_sql})::float8)"


def _event_match_sql(rule: engine.RuleSpec) -> str:
    cond = f"e.type = {lit(rule.event_type)}"
    if rule.prop:
        cond += " AND " + condition_sql(rule.op, rule.value, f"e.properties ->> {lit(rule.prop)}")
    return cond


def compile_scores(spec: ModelSpec, *, events_table: str = "leads_event") -> str:
    """A SELECT of (id, fit, engagement at %(at_us)s, watermark, fired) for the leads in %(ids)s."""
    h = lit(float(spec.half_life_s))
    rules = spec.engagement_rules()
    groups = spec.group_map()
    fit = fit_sql(spec)
    if rules:
        cases = ", ".join(f"CASE WHEN {_event_match_sql(r)} THEN {r.key} END" for r in rules)
        rule_rows = ", ".join(
            f"({r.key}, {r.group}, {lit(float(r.points))}::float8, {lit(None if r.cap is None else float(r.cap))}::float8, "
            f"{groups[r.group].window_us}::bigint, {lit(r.hard_trigger)})"
            for r in rules
        )
        group_rows = ", ".join(
            f"({g.key}, {lit(None if g.cap is None else float(g.cap))}::float8)"
            for g in spec.groups
            if g.kind == engine.ENGAGEMENT
        )
        engagement = f"""
        ev AS (
            SELECT e.lead_id, e.id, (extract(epoch FROM e.occurred_at) * 1000000)::bigint AS t,
                   unnest(array_remove(ARRAY[{cases}], NULL)) AS rule
            FROM {events_table} e WHERE e.lead_id = ANY(%(ids)s)
        ),
        rp(rule, grp, pts, cap, win, hard) AS (VALUES {rule_rows}),
        gp(grp, gcap) AS (VALUES {group_rows}),
        u AS (
            SELECT ev.lead_id, ev.rule, rp.grp, rp.pts, rp.cap, rp.win, rp.hard, ev.t / rp.win AS b,
                   count(*) AS n,
                   sum(power(2::float8, ((ev.t - (ev.t / rp.win) * rp.win)::float8 / 1000000.0) / {h})) AS s,
                   max(ev.t) AS last_t
            FROM ev JOIN rp ON rp.rule = ev.rule
            GROUP BY ev.lead_id, ev.rule, rp.grp, rp.pts, rp.cap, rp.win, rp.hard, ev.t / rp.win
        ),
        uf AS (
            SELECT u.*, CASE WHEN u.cap IS NULL OR u.n * abs(u.pts) <= u.cap THEN 1::float8
                             ELSE u.cap / (u.n * abs(u.pts)) END AS fr
            FROM u
        ),
        ug AS (
            SELECT uf.*, sum(CASE WHEN uf.pts > 0 THEN uf.n * uf.pts * uf.fr ELSE 0 END)
                         OVER (PARTITION BY uf.lead_id, uf.grp, uf.b) AS gpos
            FROM uf
        ),
        eng AS (
            SELECT ug.lead_id,
                   sum(ug.pts * ug.fr
                       * CASE WHEN ug.pts > 0 AND gp.gcap IS NOT NULL AND ug.gpos > gp.gcap THEN gp.gcap / ug.gpos ELSE 1 END
                       * ug.s * power(2::float8, ((ug.b * ug.win - %(at_us)s::bigint)::float8 / 1000000.0) / {h})) AS e,
                   bool_or(ug.hard AND ug.last_t > %(at_us)s::bigint - ug.win) AS fired
            FROM ug JOIN gp ON gp.grp = ug.grp
            GROUP BY ug.lead_id
        ),"""
    else:
        engagement = """
        eng AS (SELECT NULL::bigint AS lead_id, 0::float8 AS e, false AS fired WHERE false),"""
    return f"""
    WITH {engagement.strip()}
    wm AS (
        SELECT e.lead_id, max(e.id) AS wm FROM {events_table} e WHERE e.lead_id = ANY(%(ids)s) GROUP BY e.lead_id
    ),
    scored AS (
        SELECT l.id, {fit} AS fit, coalesce(eng.e, 0::float8) AS e, coalesce(wm.wm, 0) AS wm,
               coalesce(eng.fired, false) AS fired
        FROM leads_lead l JOIN leads_account a ON a.id = l.account_id
        LEFT JOIN eng ON eng.lead_id = l.id LEFT JOIN wm ON wm.lead_id = l.id
        WHERE l.id = ANY(%(ids)s)
    )
    SELECT id, fit, e, wm, fired FROM scored"""


def value_sql(spec: ModelSpec, fit: str = "s.fit", eng: str = "s.e") -> str:
    """clamp(fit + min(eng_cap, eng), 0, total_cap) as SQL."""
    e = eng if spec.engagement_cap is None else f"LEAST({lit(float(spec.engagement_cap))}, {eng})"
    v = f"GREATEST(0::float8, {fit} + {e})"
    return v if spec.total_cap is None else f"LEAST({lit(float(spec.total_cap))}, {v})"


def grade_sql(spec: ModelSpec, fit: str = "s.fit") -> str:
    return (
        f"CASE WHEN {fit} >= {lit(float(spec.grade_a))} THEN 'A' WHEN {fit} >= {lit(float(spec.grade_b))} THEN 'B' "
        f"WHEN {fit} >= {lit(float(spec.grade_c))} THEN 'C' ELSE 'D' END"
    )


def update_sql(spec: ModelSpec) -> str:
    """Score the leads in %(ids)s with `spec` and write them; RETURNING the MQL candidates.

    Params: ids (bigint[]), at_us (epoch µs), at (timestamptz, the same moment).
    Returns rows (id, value, fired, stage) for leads in New/Nurture whose score reaches the
    threshold or whose hard trigger fired."""
    value = value_sql(spec)
    return f"""
    WITH s AS ({compile_scores(spec)})
    UPDATE leads_lead l SET
        score_version_id = {spec.version_id},
        score_fit = s.fit,
        score_engagement = s.e,
        score_engagement_at = %(at)s,
        score_half_life_days = {lit(float(spec.half_life_days))},
        score_engagement_cap = {lit(None if spec.engagement_cap is None else float(spec.engagement_cap))},
        score_cap = {lit(None if spec.total_cap is None else float(spec.total_cap))},
        fit_grade = {grade_sql(spec)},
        score_watermark = s.wm,
        score = floor({value} + 0.5)::int,
        score_changes_at = scoring_next_change(s.fit, s.e, %(at)s, {lit(float(spec.half_life_days))},
            {lit(None if spec.engagement_cap is None else float(spec.engagement_cap))}::float8,
            {lit(None if spec.total_cap is None else float(spec.total_cap))}::float8, %(at)s),
        score_computed_at = %(at)s
    FROM s WHERE l.id = s.id
    RETURNING l.id, {value} AS value, s.fired, l.stage"""


def assign_sql(specs: list[ModelSpec]) -> str:
    """(id, version_id) for the leads in %(ids)s: the first covering model by priority, else the
    default — engine.choose_model() as SQL."""
    ordered = sorted(specs, key=lambda s: (s.is_default, s.priority, s.model_id))
    default = next((s for s in ordered if s.is_default), None)
    whens = " ".join(f"WHEN {segment_sql(s)} THEN {s.version_id}" for s in ordered if not s.is_default)
    fallback = str(default.version_id) if default else "NULL"
    case = f"CASE {whens} ELSE {fallback} END" if whens else fallback
    return f"""
    SELECT l.id, {case} AS version_id
    FROM leads_lead l JOIN leads_account a ON a.id = l.account_id
    WHERE l.id = ANY(%(ids)s)"""
