"""The calibration figures of one scoring model, computed in SQL over the closed leads of some teams.

Closed: won against lost and disqualified, moved there within the window (`days`). For each closed
lead the score it had when it closed and the version that produced it come from its outcome
snapshot (scoring.ScoreSnapshot, written by a trigger whenever a lead reaches an outcome). Which
rules fired on it is decided as an explanation would (scoring.explain: a fit rule whose condition
holds, an engagement rule one of its events matches), with that version and only the events that
happened before it closed. Fit rules read the lead's and account's fields as they are now (fields
are not versioned). A lead whose outcome snapshot has no version (closed before any model scored
it, and not restated) is explained in its current state instead, and the page says how many.

Cost: one statement builds a temporary table of the closed leads (a scan of the closed stages and
two index probes per lead into the snapshots), then a few GROUP BYs over it, and one statement per
model version that matches the events of those leads to rules and counts (rule, won, reason)
without bringing a lead or an event into Python. 100,000 closed leads: see bench/calibration.py.
"""

from __future__ import annotations

import datetime
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from qualify.leads.models import DisqualifyReason, Lead, Stage
from qualify.scoring import sql as score_sql
from qualify.scoring.engine import ModelSpec
from qualify.scoring.models import ModelVersion, ScoringModel
from qualify.scoring.scores import spec_for_version

from . import stats
from .suggestions import Suggestion, threshold_suggestion, weight_suggestion

CLOSED = (Stage.WON, Stage.LOST, Stage.DISQUALIFIED)
TOP_RULES_PER_REASON = 5
DRILL_LIMIT = 200

# The closed leads in scope, one row each: outcome, reason (disqualified only), the version and
# score at close (from the outcome snapshot; else the current ones, cut_at NULL), and the highest
# recorded score (MQL, handoff or outcome snapshot of a model version) for the threshold table.
CLOSED_SQL = """
CREATE TEMPORARY TABLE calibration_closed ON COMMIT DROP AS
SELECT l.id AS lead_id, l.stage AS stage, l.stage = 'won' AS won,
       CASE WHEN l.stage = 'disqualified' THEN l.disqualify_reason_id END AS reason_id,
       coalesce(o.version_id, l.score_version_id) AS version_id,
       CASE WHEN o.version_id IS NOT NULL THEN o.score ELSE l.score END AS score,
       CASE WHEN o.version_id IS NOT NULL THEN o.at END AS cut_at,
       GREATEST(CASE WHEN o.version_id IS NOT NULL THEN o.score ELSE l.score END, p.peak) AS peak
FROM leads_lead l
LEFT JOIN LATERAL (
    SELECT s.version_id, s.score, s.at FROM scoring_scoresnapshot s
    WHERE s.lead_id = l.id AND s.kind = 'outcome' ORDER BY s.at DESC, s.id DESC LIMIT 1
) o ON true
LEFT JOIN LATERAL (
    SELECT max(s.score) AS peak FROM scoring_scoresnapshot s
    WHERE s.lead_id = l.id AND s.kind IN ('mql', 'handoff') AND s.version_id IS NOT NULL
      AND o.version_id IS NOT NULL AND s.at <= o.at
) p ON true
WHERE l.stage IN ('won', 'lost', 'disqualified') AND l.stage_changed_at >= %(since)s
  AND l.team_id = ANY(%(teams)s)
  AND coalesce(o.version_id, l.score_version_id) IN (SELECT id FROM scoring_modelversion WHERE model_id = %(model)s)
"""


@contextmanager
def closed_table(cur, params: dict):
    """The temporary table of the closed leads in scope, for the statements inside the block. It
    is dropped at the end (and, should a caller's transaction outlive the block, before a new one
    is made); ON COMMIT DROP cleans up after an error."""
    # Reports over 100,000 leads: compiling them (JIT) cost more than it saved (0.9 s of 4 s),
    # and the grouping of (lead, rule) pairs wants more than the default work_mem to stay in memory.
    cur.execute("SET LOCAL jit = off")
    cur.execute("SET LOCAL work_mem = '64MB'")
    cur.execute("DROP TABLE IF EXISTS calibration_closed")
    cur.execute(CLOSED_SQL, params)
    cur.execute("ANALYZE calibration_closed")
    try:
        yield
    finally:
        cur.execute("DROP TABLE IF EXISTS calibration_closed")


def fired_sql(spec: ModelSpec, version: str = "%(version)s") -> str:
    """(lead_id, rule) for every rule that fired on a closed lead scored by `spec` (whose version
    id is the SQL `version`): fit rules on the lead's fields, engagement rules on its events up to
    the moment it closed."""
    # A fit rule appears once in a lead's array; an engagement rule once per matching event, so
    # only those are grouped (a hash aggregate; a UNION would sort every pair). The keys of fit and
    # engagement rules never meet, so UNION ALL adds no duplicate.
    return f"""
    SELECT c.lead_id, unnest({score_sql.fit_fired_sql(spec)}) AS rule
    FROM calibration_closed c JOIN leads_lead l ON l.id = c.lead_id JOIN leads_account a ON a.id = l.account_id
    WHERE c.version_id = {version}
    UNION ALL
    SELECT m.lead_id, m.rule FROM (
        SELECT c.lead_id, unnest({score_sql.event_rules_sql(spec)}) AS rule
        FROM calibration_closed c JOIN leads_event e ON e.lead_id = c.lead_id
             AND (c.cut_at IS NULL OR e.occurred_at <= c.cut_at)
        WHERE c.version_id = {version}
    ) m GROUP BY m.lead_id, m.rule"""


def counts_sql(spec: ModelSpec) -> str:
    """Per rule: leads it fired on and won among them; per (rule, disqualify reason) the same."""
    return f"""
    WITH fired AS ({fired_sql(spec)})
    SELECT f.rule, c.reason_id, GROUPING(c.reason_id) AS any_reason, count(*), count(*) FILTER (WHERE c.won)
    FROM fired f JOIN calibration_closed c ON c.lead_id = f.lead_id
    GROUP BY GROUPING SETS ((f.rule), (f.rule, c.reason_id))"""


@dataclass(frozen=True)
class Scope:
    """Whose closed leads, of which model, over how many days."""

    model: ScoringModel
    team_ids: tuple[int, ...]
    days: int
    now: datetime.datetime

    @property
    def since(self) -> datetime.datetime:
        return self.now - datetime.timedelta(days=self.days)


@dataclass
class RuleRow:
    rule_id: int
    label: str
    kind: str
    points: int | None  # in the published version; None when it is no longer there
    counts: stats.RuleCounts
    below_floor: bool


@dataclass
class ReasonRow:
    reason_id: int
    name: str
    leads: int
    top: list[tuple[RuleRow, int]]  # (rule, disqualified leads with this reason it fired on)


@dataclass
class ThresholdRow:
    threshold: int
    mqls: int
    won: int
    won_share: float | None
    conversion: float | None
    current: bool


@dataclass
class Report:
    scope: Scope
    version: ModelVersion | None
    closed: int = 0
    won: int = 0
    lost: int = 0
    disqualified: int = 0
    current_state: int = 0  # explained from the current state: no score recorded at close
    bands: list[stats.Band] = field(default_factory=list)
    rules: list[RuleRow] = field(default_factory=list)
    reasons: list[ReasonRow] = field(default_factory=list)
    thresholds: list[ThresholdRow] = field(default_factory=list)
    suggestions: list[Suggestion] = field(default_factory=list)
    min_sample: int = 0
    seconds: float = 0.0

    @property
    def base(self) -> float | None:
        return stats.rate(self.won, self.closed)

    @property
    def below_floor(self) -> int:
        """How many more closed leads the figures need before any suggestion (0 when enough)."""
        return max(0, self.min_sample - self.closed)


def models_with_versions() -> list[ScoringModel]:
    return list(ScoringModel.objects.filter(current_version__isnull=False).order_by("-is_default", "priority", "name"))


def compute(scope: Scope, *, min_sample: int | None = None, keep: float | None = None) -> Report:
    """Every figure of the page and the API for `scope`. See the module docstring for the cost."""
    started = time.perf_counter()
    min_sample = settings.CALIBRATION_MIN_SAMPLE if min_sample is None else min_sample
    keep = settings.CALIBRATION_KEEP_WON if keep is None else keep
    model = scope.model
    report = Report(scope=scope, version=model.current_version, min_sample=min_sample)
    params = {"since": scope.since, "teams": list(scope.team_ids), "model": model.pk}
    histogram: dict[int, tuple[int, int]] = {}
    peaks: dict[int, tuple[int, int]] = {}
    by_version: dict[int, tuple[int, int]] = {}
    reason_leads: dict[int, int] = {}
    fired: dict[int, dict[int | None, tuple[int, int]]] = defaultdict(dict)  # rule -> {reason or None: (n, won)}
    with transaction.atomic(), connection.cursor() as cur, closed_table(cur, params):
        cur.execute("SELECT stage, count(*), count(*) FILTER (WHERE cut_at IS NULL) FROM calibration_closed GROUP BY stage")
        for stage, n, current in cur.fetchall():
            setattr(report, stage, n)
            report.current_state += current
        report.closed = report.won + report.lost + report.disqualified
        cur.execute("SELECT score, count(*), count(*) FILTER (WHERE won) FROM calibration_closed GROUP BY score")
        histogram = {s: (n, w) for s, n, w in cur.fetchall()}
        cur.execute("SELECT peak, count(*), count(*) FILTER (WHERE won) FROM calibration_closed GROUP BY peak")
        peaks = {s: (n, w) for s, n, w in cur.fetchall()}
        cur.execute("SELECT version_id, count(*), count(*) FILTER (WHERE won) FROM calibration_closed GROUP BY version_id")
        by_version = {v: (n, w) for v, n, w in cur.fetchall()}
        cur.execute("SELECT reason_id, count(*) FROM calibration_closed WHERE reason_id IS NOT NULL GROUP BY reason_id")
        reason_leads = dict(cur.fetchall())
        versions = {v.pk: spec_for_version(v) for v in ModelVersion.objects.filter(pk__in=list(by_version))}
        for version_id, spec in versions.items():
            cur.execute(counts_sql(spec), {"version": version_id})
            for rule, reason, any_reason, n, won in cur.fetchall():
                key = None if any_reason else reason
                if any_reason or reason is not None:
                    old = fired[rule].get(key, (0, 0))
                    fired[rule][key] = (old[0] + n, old[1] + won)
    report.bands = stats.deciles(histogram)
    report.rules = _rules(report, versions, by_version, fired, min_sample)
    report.reasons = _reasons(report.rules, reason_leads, fired)
    threshold = int(report.version.spec["mql_threshold"]) if report.version else model.mql_threshold
    report.thresholds = _thresholds(peaks, threshold, report.won)
    report.suggestions = _suggestions(report, peaks, threshold, min_sample, keep)
    report.seconds = time.perf_counter() - started
    return report


def _rules(report: Report, versions: dict[int, ModelSpec], by_version, fired, min_sample: int) -> list[RuleRow]:
    """One row per rule of any version that scored a closed lead; a rule is counted only on the
    leads of versions that had it (a rule added later could not have fired on older leads)."""
    current = report.version.as_spec() if report.version else None
    current_points = {r.key: r.points for r in current.rules} if current else {}
    rows: dict[int, RuleRow] = {}
    eligible: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    # The newest version names a rule (labels change); the published one gives its points.
    for version_id in sorted(versions, key=lambda v: versions[v].number):
        spec = versions[version_id]
        groups = spec.group_map()
        n, won = by_version.get(version_id, (0, 0))
        for rule in spec.rules:
            e = eligible[rule.key]
            eligible[rule.key] = (e[0] + n, e[1] + won)
            points = current_points.get(rule.key)
            rows[rule.key] = RuleRow(rule.key, rule.label, groups[rule.group].kind,
                                     int(points) if points is not None else None, None, False)  # type: ignore[arg-type]
    for key, row in rows.items():
        n, won = fired.get(key, {}).get(None, (0, 0))
        row.counts = stats.RuleCounts(eligible[key][0], eligible[key][1], n, won)
        row.below_floor = n < min_sample or row.counts.not_fired < min_sample
    return sorted(rows.values(), key=lambda r: (-r.counts.fired, r.label))


def _reasons(rules: list[RuleRow], reason_leads: dict[int, int], fired) -> list[ReasonRow]:
    names = dict(DisqualifyReason.objects.filter(pk__in=list(reason_leads)).values_list("pk", "name"))
    out = []
    for reason_id, leads in reason_leads.items():
        top = sorted(((r, fired.get(r.rule_id, {}).get(reason_id, (0, 0))[0]) for r in rules), key=lambda x: (-x[1], x[0].label))
        out.append(ReasonRow(reason_id, names.get(reason_id, "?"), leads,
                             [(r, n) for r, n in top[:TOP_RULES_PER_REASON] if n]))
    return sorted(out, key=lambda r: (-r.leads, r.name))


def _thresholds(peaks: dict[int, tuple[int, int]], current: int, won: int) -> list[ThresholdRow]:
    """MQLs and won leads kept at thresholds around the current one (every 5 points, 20–100)."""
    candidates = sorted({*range(20, 101, 5), current})
    rows = []
    for t in candidates:
        mqls, kept = stats.at_or_above(peaks, t)
        rows.append(ThresholdRow(t, mqls, kept, stats.rate(kept, won), stats.rate(kept, mqls), t == current))
    return rows


def _suggestions(report: Report, peaks, threshold: int, min_sample: int, keep: float) -> list[Suggestion]:
    if report.version is None:
        return []
    out = []
    if s := threshold_suggestion(peaks, threshold, min_sample, keep):
        out.append(s)
    weights = [
        s for r in report.rules if r.points is not None
        if (s := weight_suggestion(r.rule_id, r.label, r.points, r.counts, min_sample))
    ]
    # The biggest surprises first: the furthest from the base.
    weights.sort(key=lambda s: -abs(s.suggested - s.current))
    return out + weights


def drill_down(scope: Scope, *, band: tuple[int, int] | None = None, rule: int | None = None,
               reason: int | None = None, outcome: str = "") -> tuple[list[Lead], int]:
    """The closed leads behind one figure (a band's scores, a rule that fired, a reason), at most
    DRILL_LIMIT of them, newest first, with the total. Same scope, same SQL as the figures."""
    params = {"since": scope.since, "teams": list(scope.team_ids), "model": scope.model.pk}
    where, extra = ["true"], {}
    if band is not None:
        where.append("c.score BETWEEN %(low)s AND %(high)s")
        extra.update(low=band[0], high=band[1])
    if reason is not None:
        where.append("c.reason_id = %(reason)s")
        extra["reason"] = reason
    if outcome in CLOSED:
        where.append("c.stage = %(outcome)s")
        extra["outcome"] = outcome
    with transaction.atomic(), connection.cursor() as cur, closed_table(cur, params):
        if rule is not None:
            versions = ModelVersion.objects.filter(model=scope.model)
            specs = [spec_for_version(v) for v in versions if any(r.key == rule for r in spec_for_version(v).rules)]
            parts = [f"({fired_sql(s, str(int(s.version_id)))})" for s in specs]
            sub = " UNION ".join(parts) if parts else "SELECT NULL::bigint AS lead_id, NULL::int AS rule WHERE false"
            where.append(f"c.lead_id IN (SELECT f.lead_id FROM ({sub}) f WHERE f.rule = %(rule)s)")
            extra["rule"] = rule
        cur.execute(
            f"SELECT c.lead_id, c.score, c.cut_at IS NULL FROM calibration_closed c WHERE {' AND '.join(where)} "
            f"ORDER BY c.lead_id DESC",
            {**params, **extra},
        )
        rows = cur.fetchall()
    total = len(rows)
    rows = rows[:DRILL_LIMIT]
    leads = {lead.pk: lead for lead in Lead.objects.filter(pk__in=[r[0] for r in rows]).select_related("team", "account", "disqualify_reason")}
    out = []
    for lead_id, score, current in rows:
        if lead := leads.get(lead_id):
            lead.score_at_close = score
            lead.explained_now = current
            out.append(lead)
    return out, total


def scope_for(model: ScoringModel, team_ids: tuple[int, ...], days: int | None = None,
              now: datetime.datetime | None = None) -> Scope:
    return Scope(model, team_ids, days or settings.CALIBRATION_WINDOW_DAYS, now or timezone.now())
