"""A model version compiled to set-based SQL: how every score is written.

`update_sql(spec)` renders one statement that, for the leads in %(ids)s, computes fit from
lead/account columns and engagement from leads_event with the exact semantics of engine.py: events
matched to rules in one pass (an array of CASEs unnested), aggregated per (lead, rule, window) with
GROUP BY, rule and group caps applied pro rata with window functions, decay summed to %(at_us)s.
It writes the result onto leads_lead in the same statement and returns the MQL candidates. No
event is brought into Python. `compile_scores` reads all of a lead's events (first score, new
version, full recompute); `compile_delta` only the new ones and their windows (ingestion).

Rule values are inlined as SQL literals (escaped by `lit`); versions are immutable, so the
rendered statement is cached on the spec.
"""

from __future__ import annotations

from typing import Any

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


# Custom properties (qualify/leads/properties.py): `lead.properties.<key>` reads l.properties ->> key,
# `account.properties.<key>` a.properties ->> key. jsonb renders yes/no as true/false and numbers as
# Python's str() does for the shapes leads/properties.py stores, so engine.text() compares equal.
PROPERTY_PREFIXES = {"lead.properties.": "l", "account.properties.": "a"}


def field_sql(name: str) -> str:
    """The SQL expression of a condition field: a built-in column or a custom property."""
    for prefix, alias in PROPERTY_PREFIXES.items():
        if name.startswith(prefix):
            return f"{alias}.properties ->> {lit(name.removeprefix(prefix))}"
    return FIELD_SQL[name]


def lead_facts(lead: Any) -> dict[str, Any]:
    """The same fields as field_sql, read from a Lead with its account loaded."""
    account = lead.account
    email = lead.email or ""
    return {
        **{f"lead.properties.{k}": v for k, v in (lead.properties or {}).items()},
        **{f"account.properties.{k}": v for k, v in (account.properties or {}).items()},
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


NUMBER = "'^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([e][-+]?[0-9]+)?$'"


def _number(text: str) -> str:
    return f"(CASE WHEN {text} ~ {NUMBER} THEN ({text})::float8 END)"


class Shared:
    """The normalised text (and number) of each field the fit rules read, computed once per lead in
    a LATERAL subquery named `name` instead of once per rule (a dozen rules read a few columns;
    OFFSET 0 keeps the planner from inlining it back into every rule). 40% less fit arithmetic."""

    def __init__(self, name: str):
        self.name = name
        self.columns: dict[str, str] = {}  # SQL expression → column alias

    def _column(self, sql: str) -> str:
        if sql not in self.columns:
            self.columns[sql] = f"v{len(self.columns)}"
        return f"{self.name}.{self.columns[sql]}"

    def text(self, expr: str) -> str:
        return self._column(_text(expr))

    def number(self, expr: str) -> str:
        return self._column(_number(_text(expr)))

    def lateral(self) -> str:
        """The join to add after the row's table (empty when no rule reads a field)."""
        if not self.columns:
            return ""
        select = ", ".join(f"{sql} AS {alias}" for sql, alias in self.columns.items())
        return f"CROSS JOIN LATERAL (SELECT {select} OFFSET 0) {self.name}"


def condition_sql(op: str, value: str, expr: str, shared: Shared | None = None) -> str:
    """engine.matches() as SQL over `expr` (through `shared` when given)."""
    text = shared.text(expr) if shared else _text(expr)
    if op == "equals":
        return f"{text} = {lit(engine.text(value))}"
    if op == "one_of":
        items = ", ".join(lit(v) for v in engine.parse_list(value))
        return f"{text} IN ({items})"
    if op == "contains":
        return f"strpos({text}, {lit(engine.text(value))}) > 0"
    if op == "range":
        lo, hi = engine.parse_range(value)
        num = shared.number(expr) if shared else _number(text)
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
    return " AND ".join(f"({condition_sql(c.op, c.value, field_sql(c.field))})" for c in spec.segment)


def fit_sql(spec: ModelSpec, shared: Shared | None = None) -> str:
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
                f"(CASE WHEN {condition_sql(r.op, r.value, field_sql(r.field), shared)} THEN {lit(float(r.points))} ELSE 0 END)"
                for r in pos
            )
            pos_terms.append(f"LEAST({lit(float(group.cap))}, {s})" if group.cap is not None else f"({s})")
        for r in neg:
            neg_terms.append(
                f"(CASE WHEN {condition_sql(r.op, r.value, field_sql(r.field), shared)} THEN {lit(float(r.points))} ELSE 0 END)"
            )
    pos_sql = " + ".join(pos_terms) or "0"
    if spec.fit_cap is not None:
        pos_sql = f"LEAST({lit(float(spec.fit_cap))}, {pos_sql})"
    neg_sql = " + ".join(neg_terms) or "0"
    return f"(({pos_sql})::float8 + ({neg_sql})::float8)"


def _matches_sql(rules: list[engine.RuleSpec]) -> str:
    """The keys of the rules an event `e` matches, as an int[]: one switch on the event type, then
    only that type's property tests. Where they all compare one property for equality (page
    category = pricing, = product, …) a second switch reads the property once."""
    by_type: dict[str, list[engine.RuleSpec]] = {}
    for rule in rules:
        by_type.setdefault(rule.event_type, []).append(rule)
    branches = []
    for etype, group in by_type.items():
        always = [r.key for r in group if not r.prop]
        tested = [r for r in group if r.prop]
        if not tested:
            keys = f"ARRAY[{', '.join(map(str, always))}]::int[]"
        elif all(r.op == "equals" and r.prop == tested[0].prop for r in tested):
            by_value: dict[str, list[int]] = {}
            for r in tested:
                by_value.setdefault(engine.text(r.value), []).append(r.key)
            whens = " ".join(f"WHEN {lit(v)} THEN ARRAY[{', '.join(map(str, always + k))}]::int[]" for v, k in by_value.items())
            keys = (f"(CASE {_text(f'e.properties ->> {lit(tested[0].prop)}')} {whens} "
                    f"ELSE ARRAY[{', '.join(map(str, always))}]::int[] END)")
        else:
            tests = ", ".join(
                [*map(str, always)]
                + [f"CASE WHEN {condition_sql(r.op, r.value, f'e.properties ->> {lit(r.prop)}')} THEN {r.key} END" for r in tested]
            )
            keys = f"array_remove(ARRAY[{tests}]::int[], NULL)"
        branches.append(f"WHEN {lit(etype)} THEN {keys}")
    return f"(CASE e.type {' '.join(branches)} ELSE '{{}}'::int[] END)"


def fit_fired_sql(spec: ModelSpec) -> str:
    """The keys of the fit rules whose condition holds for a lead (l, a), as an int[]: the fit
    lines of engine.fit_lines, for calibration ("which rules fired on this lead")."""
    tests = [f"CASE WHEN {condition_sql(r.op, r.value, field_sql(r.field))} THEN {r.key} END" for r in spec.fit_rules()]
    return f"array_remove(ARRAY[{', '.join(tests)}]::int[], NULL)" if tests else "'{}'::int[]"


def event_rules_sql(spec: ModelSpec) -> str:
    """The keys of the engagement rules an event `e` matches, as an int[]: a lead has a line for
    each rule one of its events matches (engine.engagement_lines), for calibration."""
    return _matches_sql(spec.engagement_rules()) if spec.engagement_rules() else "'{}'::int[]"


T_US = "(extract(epoch FROM e.occurred_at) * 1000000)::bigint"


def _rule_tables(spec: ModelSpec) -> tuple[str, str]:
    """The rule keys an event `e` matches (an int[] expression), and the VALUES tables of rules
    rp(rule, grp, pts, cap, win, hard) and groups gp(grp, gcap)."""
    groups = spec.group_map()
    rules = spec.engagement_rules()
    matches = _matches_sql(rules)
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
    return matches, (
        f"rp(rule, grp, pts, cap, win, hard) AS (VALUES {rule_rows}),\n        gp(grp, gcap) AS (VALUES {group_rows}),"
    )


def _rule_factor(n: str) -> str:
    """The rule cap, pro rata: n occurrences of pts points against cap count cap/(n·|pts|) each."""
    return f"CASE WHEN u.cap IS NULL OR {n} * abs(u.pts) <= u.cap THEN 1::float8 ELSE u.cap / ({n} * abs(u.pts)) END"


def _group_factor(gpos: str) -> str:
    """The group cap on positive points, pro rata (negative rules are never scaled down)."""
    return f"CASE WHEN ug.pts > 0 AND gp.gcap IS NOT NULL AND {gpos} > gp.gcap THEN gp.gcap / {gpos} ELSE 1 END"


def _weight(t: str, h: str) -> str:
    """engine.decay_weight(t, window start, h): an occurrence's weight relative to its window."""
    return f"power(2::float8, (({t} - ({t} / rp.win) * rp.win)::float8 / 1000000.0) / {h})"


def _scale(h: str) -> str:
    """From a window's start to %(at_us)s: engine.decay_weight(start, at, h)."""
    return f"power(2::float8, GREATEST(-1000::float8, ((ug.b * ug.win - %(at_us)s::bigint)::float8 / 1000000.0) / {h}))"


def compile_scores(spec: ModelSpec) -> str:
    """A SELECT of (id, fit, e and e_at: the engagement to store and the moment it is as of,
    e_now: the engagement at %(at_us)s, watermark, fired) for the leads in %(ids)s, from all their
    events (a first score, a new version, the full recompute). Here e_at is %(at)s and e = e_now."""
    h = lit(float(spec.half_life_s))
    fields = Shared("lf")
    fit = fit_sql(spec, fields)
    if spec.engagement_rules():
        matches, tables = _rule_tables(spec)
        engagement = f"""
        ev AS (
            SELECT e.lead_id, e.id, {T_US} AS t, unnest({matches}) AS rule
            FROM leads_event e WHERE e.lead_id = ANY(%(ids)s)
        ),
        {tables}
        u AS (
            SELECT ev.lead_id, ev.rule, rp.grp, rp.pts, rp.cap, rp.win, rp.hard, ev.t / rp.win AS b,
                   count(*) AS n, sum({_weight("ev.t", h)}) AS s, max(ev.t) AS last_t
            FROM ev JOIN rp ON rp.rule = ev.rule
            GROUP BY ev.lead_id, ev.rule, rp.grp, rp.pts, rp.cap, rp.win, rp.hard, ev.t / rp.win
        ),
        uf AS (SELECT u.*, {_rule_factor("u.n")} AS fr FROM u),
        ug AS (
            SELECT uf.*, sum(CASE WHEN uf.pts > 0 THEN uf.n * uf.pts * uf.fr ELSE 0 END)
                         OVER (PARTITION BY uf.lead_id, uf.grp, uf.b) AS gpos
            FROM uf
        ),
        eng AS (
            SELECT ug.lead_id, sum(ug.pts * ug.fr * {_group_factor("ug.gpos")} * ug.s * {_scale(h)}) AS e,
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
        SELECT e.lead_id, max(e.id) AS wm FROM leads_event e WHERE e.lead_id = ANY(%(ids)s) GROUP BY e.lead_id
    ),
    scored AS (
        SELECT l.id, {fit} AS fit, coalesce(eng.e, 0::float8) AS e, %(at)s::timestamptz AS e_at,
               coalesce(wm.wm, 0) AS wm, coalesce(eng.fired, false) AS fired
        FROM leads_lead l JOIN leads_account a ON a.id = l.account_id {fields.lateral()}
        LEFT JOIN eng ON eng.lead_id = l.id LEFT JOIN wm ON wm.lead_id = l.id
        WHERE l.id = ANY(%(ids)s)
    )
    SELECT id, fit, e, e_at, e AS e_now, wm, fired FROM scored"""


def compile_delta(spec: ModelSpec) -> str:
    """The incremental twin of compile_scores for leads already scored by `spec`: the same columns,
    with e_now = the stored engagement decayed to %(at_us)s, plus, for each (group, window)
    that a new event (id > score_watermark) falls in, that window's value from all its events
    minus its value from the events counted before. Reads the new events and the events of
    their windows, never a lead's whole history; `fired` looks at new events only."""
    h = lit(float(spec.half_life_s))
    fields = Shared("lf")
    fit = fit_sql(spec, fields)
    stored = "(extract(epoch FROM l.score_engagement_at) * 1000000)::bigint"
    decayed = (
        f"CASE WHEN l.score_engagement = 0 OR l.score_engagement_at IS NULL THEN 0::float8 "
        f"ELSE l.score_engagement * power(2::float8, GREATEST(-1000::float8, "
        f"-((%(at_us)s::bigint - {stored})::float8 / 1000000.0) / {h})) END"
    )
    head = """
        fresh AS (
            SELECT e.lead_id, e.id, e.type, e.properties, e.occurred_at, l.score_watermark AS counted
            FROM leads_lead l JOIN leads_event e ON e.lead_id = l.id AND e.id > l.score_watermark
            WHERE l.id = ANY(%(ids)s)
        ),
        wm AS (SELECT e.lead_id, max(e.id) AS wm FROM fresh e GROUP BY e.lead_id),"""
    if spec.engagement_rules():
        matches, tables = _rule_tables(spec)
        engagement = f"""{head}
        {tables}
        win AS (
            SELECT DISTINCT m.lead_id, m.counted, rp.grp, m.t / rp.win AS b, rp.win
            FROM (SELECT e.lead_id, e.counted, {T_US} AS t, unnest({matches}) AS rule
                  FROM fresh e) m
            JOIN rp ON rp.rule = m.rule
        ),
        ev AS (
            -- since: the earliest window start, a whole number of seconds (event_lead_time_id serves it)
            SELECT e.lead_id, e.id > w.counted AS new, {T_US} AS t, unnest({matches}) AS rule
            FROM (SELECT lead_id, min(counted) AS counted, min(b * win) AS since FROM win GROUP BY lead_id) w
            JOIN leads_event e ON e.lead_id = w.lead_id AND e.occurred_at >= to_timestamp((w.since / 1000000)::float8)
        ),
        u AS (
            SELECT ev.lead_id, ev.rule, rp.grp, rp.pts, rp.cap, rp.win, rp.hard, ev.t / rp.win AS b,
                   count(*) AS n, sum({_weight("ev.t", h)}) AS s,
                   count(*) FILTER (WHERE NOT ev.new) AS n0,
                   coalesce(sum({_weight("ev.t", h)}) FILTER (WHERE NOT ev.new), 0) AS s0,
                   max(ev.t) FILTER (WHERE ev.new) AS last_new
            FROM ev JOIN rp ON rp.rule = ev.rule
            JOIN win ON win.lead_id = ev.lead_id AND win.grp = rp.grp AND win.b = ev.t / rp.win
            GROUP BY ev.lead_id, ev.rule, rp.grp, rp.pts, rp.cap, rp.win, rp.hard, ev.t / rp.win
        ),
        uf AS (SELECT u.*, {_rule_factor("u.n")} AS fr, {_rule_factor("u.n0")} AS fr0 FROM u),
        ug AS (
            SELECT uf.*, sum(CASE WHEN uf.pts > 0 THEN uf.n * uf.pts * uf.fr ELSE 0 END) OVER w AS gpos,
                   sum(CASE WHEN uf.pts > 0 THEN uf.n0 * uf.pts * uf.fr0 ELSE 0 END) OVER w AS gpos0
            FROM uf WINDOW w AS (PARTITION BY uf.lead_id, uf.grp, uf.b)
        ),
        eng AS (
            SELECT ug.lead_id,
                   sum((ug.pts * ug.fr * {_group_factor("ug.gpos")} * ug.s
                        - ug.pts * ug.fr0 * {_group_factor("ug.gpos0")} * ug.s0) * {_scale(h)}) AS e,
                   bool_or(ug.hard AND ug.last_new > %(at_us)s::bigint - ug.win) AS fired
            FROM ug JOIN gp ON gp.grp = ug.grp
            GROUP BY ug.lead_id
        ),"""
    else:
        engagement = f"""{head}
        eng AS (SELECT NULL::bigint AS lead_id, 0::float8 AS e, false AS fired WHERE false),"""
    return f"""
    WITH {engagement.strip()}
    scored AS (
        SELECT l.id, {fit} AS fit, {decayed} + coalesce(eng.e, 0::float8) AS e_now,
               -- No window changed (the new events match no rule): keep the stored pair, so the
               -- score and its next change stay the same and the row can be rewritten in place (HOT).
               CASE WHEN eng.lead_id IS NULL THEN l.score_engagement END AS kept,
               CASE WHEN eng.lead_id IS NULL THEN l.score_engagement_at ELSE %(at)s END AS e_at,
               GREATEST(l.score_watermark, coalesce(wm.wm, 0)) AS wm, coalesce(eng.fired, false) AS fired
        FROM leads_lead l JOIN leads_account a ON a.id = l.account_id {fields.lateral()}
        LEFT JOIN eng ON eng.lead_id = l.id LEFT JOIN wm ON wm.lead_id = l.id
        WHERE l.id = ANY(%(ids)s)
    )
    SELECT id, fit, coalesce(kept, e_now) AS e, e_at, e_now, wm, fired FROM scored"""


def value_sql(spec: ModelSpec, fit: str = "s.fit", eng: str = "s.e_now") -> str:
    """clamp(fit + min(eng_cap, eng), 0, total_cap) as SQL."""
    e = eng if spec.engagement_cap is None else f"LEAST({lit(float(spec.engagement_cap))}, {eng})"
    v = f"GREATEST(0::float8, {fit} + {e})"
    return v if spec.total_cap is None else f"LEAST({lit(float(spec.total_cap))}, {v})"


def grade_sql(spec: ModelSpec, fit: str = "s.fit") -> str:
    return (
        f"CASE WHEN {fit} >= {lit(float(spec.grade_a))} THEN 'A' WHEN {fit} >= {lit(float(spec.grade_b))} THEN 'B' "
        f"WHEN {fit} >= {lit(float(spec.grade_c))} THEN 'C' ELSE 'D' END"
    )


def update_sql(spec: ModelSpec, *, delta: bool = False) -> str:
    """The statement, rendered once per spec (specs are cached per version: scores.spec_for_version)."""
    key = ("update_sql", delta)
    if key not in spec._memo:
        spec._memo[key] = _render_update(spec, delta)
    return spec._memo[key]


def _render_update(spec: ModelSpec, delta: bool) -> str:
    """Score the leads in %(ids)s with `spec` (from all their events, or with `delta` from their
    new events: see compile_delta) and write them; RETURNING the MQL candidates.

    Params: ids (bigint[]), at_us (epoch µs), at (timestamptz, the same moment).
    Returns rows (id, value, fired, stage) for leads in New/Nurture whose score reaches the
    threshold or whose hard trigger fired.

    Written so that an event which leaves the shown score alone rewrites the row in place (HOT,
    no index written): `score` and `score_changes_at` are the only scoring columns an index of
    leads_lead reads, and a changed due time alone would write all of them (17 on the bench
    data). So a stored due time that is still ahead and not later than the new one is kept:
    decay.refresh_due recomputes from the stored columns then, finds the same score and stores
    the exact time; the cost is at most one extra refresh of that lead."""
    value = value_sql(spec)
    half_life, ecap = lit(float(spec.half_life_days)), lit(None if spec.engagement_cap is None else float(spec.engagement_cap))
    cap = lit(None if spec.total_cap is None else float(spec.total_cap))
    return f"""
    WITH s0 AS ({compile_delta(spec) if delta else compile_scores(spec)}),
    s AS (
        SELECT s.*, floor({value} + 0.5)::int AS shown,
               scoring_next_change(s.fit, s.e, s.e_at, {half_life}, {ecap}::float8, {cap}::float8, %(at)s) AS next_change
        FROM s0 s
    )
    UPDATE leads_lead l SET
        score_version_id = {spec.version_id},
        score_fit = s.fit,
        score_engagement = s.e,
        score_engagement_at = s.e_at,
        score_half_life_days = {half_life},
        score_engagement_cap = {ecap},
        score_cap = {cap},
        fit_grade = {grade_sql(spec)},
        score_watermark = s.wm,
        score = s.shown,
        -- An unchanged shown score keeps an earlier due time: see the docstring.
        score_changes_at = CASE WHEN l.score = s.shown AND l.score_changes_at > %(at)s
                                 AND l.score_changes_at <= coalesce(s.next_change, 'infinity')
                           THEN l.score_changes_at ELSE s.next_change END,
        score_computed_at = %(at)s
    FROM s WHERE l.id = s.id
    RETURNING l.id, {value} AS value, s.fired, l.stage"""


def choose_model_sql(specs: list[ModelSpec]) -> str:
    """engine.choose_model() over a lead (l, a) as SQL: the version id of the first covering model
    by priority, else the default's (NULL when there is none)."""
    ordered = sorted(specs, key=lambda s: (s.is_default, s.priority, s.model_id))
    default = next((s for s in ordered if s.is_default), None)
    whens = " ".join(f"WHEN {segment_sql(s)} THEN {s.version_id}" for s in ordered if not s.is_default)
    fallback = str(default.version_id) if default else "NULL"
    return f"CASE {whens} ELSE {fallback} END" if whens else fallback


def assign_sql(specs: list[ModelSpec], *, lock: str = "") -> str:
    """(id, version_id, current version) for the leads in %(ids)s, locking them FOR NO KEY UPDATE
    (`lock` may add SKIP LOCKED): the first covering model by priority, else the default —
    engine.choose_model() as SQL."""
    return f"""
    SELECT l.id, {choose_model_sql(specs)} AS version_id, l.score_version_id
    FROM leads_lead l JOIN leads_account a ON a.id = l.account_id
    WHERE l.id = ANY(%(ids)s)
    ORDER BY l.id FOR NO KEY UPDATE OF l {lock}"""
