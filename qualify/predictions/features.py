"""What a prediction may learn from: only what was known before the outcome.

Features are the lead's and account's built-in fields, the active custom properties not marked
"known only after contact", and engagement (events by type) before the cutoff: the moment the
lead closed for training rows, now for open leads. Never what the outcome wrote: stage dates,
the disqualify reason, notes, owners or the rule score (itself fed by the same events, and
changed by people reacting to the lead). Rows come out of one SQL statement per batch (the
lead, its account and its event counts), so scoring a million leads never loads a model object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.db import connection

from qualify.countries import COUNTRY_NAMES
from qualify.leads.models import EventType, Persona, RevenueBand, Segment, Seniority, Source, Stage

WON = (Stage.WON,)
LOST = (Stage.LOST, Stage.DISQUALIFIED)

# (column name, SQL, label). Categorical built-ins: text values, "" when unknown.
CATEGORICAL = [
    ("seniority", "l.seniority", "Seniority"),
    ("persona", "l.persona", "Persona"),
    ("department", "l.department", "Department"),
    ("source", "l.source", "Source"),
    ("campaign", "l.campaign", "Campaign"),
    ("email_domain_kind", "CASE WHEN l.email = '' THEN '' WHEN split_part(l.email, '@', 2) = a.domain "
     "THEN 'company' ELSE 'other' END", "Email domain"),
    ("industry", "a.industry", "Industry"),
    ("revenue_band", "a.revenue_band", "Revenue band"),
    ("country", "a.country", "Country"),
    ("region", "a.region", "Region"),
    ("account_segment", "a.segment", "Account segment"),
]
NUMERIC = [
    ("employee_count", "a.employee_count::float8", "Employees"),
]
# How a stored value reads, for the categorical columns whose values are codes: the labels the
# Lead and Account cards show ("$250M–1B", not "250m_1b").
VALUE_LABELS: dict[str, dict[str, str]] = {
    "seniority": dict(Seniority.choices),
    "persona": dict(Persona.choices),
    "source": dict(Source.choices),
    "email_domain_kind": {"company": "Company domain", "other": "Other domain"},
    "revenue_band": dict(RevenueBand.choices),
    "country": COUNTRY_NAMES,  # "Brazil", not "BR"
    "account_segment": dict(Segment.choices),
}


def shown_value(feature: str, value: str) -> str:
    """A categorical value as people read it: "$250M–1B" for revenue band "250m_1b", "unknown" for ""."""
    return VALUE_LABELS.get(feature, {}).get(value, value) if value else "unknown"
EVENT_TYPES = [t.value for t in EventType]


@dataclass(frozen=True)
class Prop:
    key: str
    label: str
    entity: str  # lead | account
    kind: str  # text | number | choice | yesno | date


@dataclass
class FeatureSet:
    """The columns of X, in order: categorical first, then numeric (what the pipelines expect)."""

    categorical: list[str]
    numeric: list[str]
    labels: dict[str, str] = field(default_factory=dict)
    props: list[Prop] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return self.categorical + self.numeric

    def without(self, names: set[str]) -> FeatureSet:
        return FeatureSet(
            [c for c in self.categorical if c not in names], [n for n in self.numeric if n not in names],
            self.labels, [p for p in self.props if f"prop:{p.key}" not in names],
        )


def properties() -> tuple[list[Prop], list[Prop]]:
    """(usable, known only after contact) custom properties. Empty when the project has none."""
    try:
        from qualify.leads.models import Property
    except ImportError:  # custom properties not installed yet
        return [], []
    usable, after = [], []
    for p in Property.objects.filter(active=True).order_by("entity", "key"):
        if p.kind == "date":
            continue  # a date is an event in time, rarely a known-before fact; left out
        (after if p.known_after_contact else usable).append(Prop(p.key, p.label, p.entity, p.kind))
    return usable, after


def feature_set() -> tuple[FeatureSet, list[str]]:
    """All candidate features, and the labels of properties left out as known only after contact."""
    usable, after = properties()
    labels = {name: label for name, _, label in CATEGORICAL + NUMERIC}
    labels.update({f"events:{t}": f"{EventType(t).label} events" for t in EVENT_TYPES})
    cat = [name for name, _, _ in CATEGORICAL]
    num = [name for name, _, _ in NUMERIC] + [f"events:{t}" for t in EVENT_TYPES]
    for p in usable:
        labels[f"prop:{p.key}"] = p.label
        (num if p.kind in ("number", "yesno") else cat).append(f"prop:{p.key}")
    return FeatureSet(cat, num, labels, usable), [p.label for p in after]


def _prop_sql(p: Prop, idx: int) -> str:
    alias = "l" if p.entity == "lead" else "a"
    return f"{alias}.properties -> %(pk{idx})s"


def _select(fs: FeatureSet) -> tuple[str, dict]:
    cols = [sql for _, sql, _ in CATEGORICAL + NUMERIC]
    params: dict = {}
    for i, p in enumerate(fs.props):
        cols.append(_prop_sql(p, i))
        params[f"pk{i}"] = p.key
    return ", ".join(cols), params


def fetch(fs: FeatureSet, where: str, params: dict, *, closed: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(ids, X as an object array in fs.names order, y (1 won, 0 lost; empty for open leads),
    scoring model id per lead) for the leads `where` selects. Events count up to the lead's
    close (closed) or all of them (open leads: everything up to now)."""
    select, prop_params = _select(fs)
    cutoff = "AND e.occurred_at < l.stage_changed_at" if closed else ""
    counts = ", ".join(f"count(*) FILTER (WHERE e.type = '{t}')" for t in EVENT_TYPES)
    sql = f"""
        SELECT l.id, l.stage, v.model_id, {select}, ev.*
        FROM leads_lead l
        JOIN leads_account a ON a.id = l.account_id
        LEFT JOIN scoring_modelversion v ON v.id = l.score_version_id
        LEFT JOIN LATERAL (SELECT {counts} FROM leads_event e WHERE e.lead_id = l.id {cutoff}) ev ON true
        WHERE {where}
        ORDER BY l.id"""
    with connection.cursor() as cur:
        cur.execute(sql, {**params, **prop_params})
        rows = cur.fetchall()
    return to_matrix(fs, rows)


def to_matrix(fs: FeatureSet, rows: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_builtin_cat, n_builtin_num, n_props = len(CATEGORICAL), len(NUMERIC), len(fs.props)
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    y = np.array([1 if r[1] in WON else 0 for r in rows], dtype=np.int8)
    segments = np.array([r[2] if r[2] is not None else -1 for r in rows], dtype=np.int64)
    X = np.empty((len(rows), len(fs.names)), dtype=object)
    col = {name: i for i, name in enumerate(fs.names)}
    base = 3
    for j, (name, _, _) in enumerate(CATEGORICAL):
        if name in col:
            X[:, col[name]] = [r[base + j] or "" for r in rows]
    for j, (name, _, _) in enumerate(NUMERIC):
        if name in col:
            X[:, col[name]] = [_num(r[base + n_builtin_cat + j]) for r in rows]
    pbase = base + n_builtin_cat + n_builtin_num
    for j, p in enumerate(fs.props):
        name = f"prop:{p.key}"
        if name in col:
            conv = _num if name in fs.numeric else _text
            X[:, col[name]] = [conv(r[pbase + j]) for r in rows]
    ebase = pbase + n_props
    for j, t in enumerate(EVENT_TYPES):
        name = f"events:{t}"
        if name in col:
            X[:, col[name]] = [float(r[ebase + j] or 0) for r in rows]
    return ids, X, y, segments


def _num(v) -> float:
    if v is None or v == "":
        return np.nan
    if isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        low = v.strip().lower()
        if low in ("yes", "true"):
            return 1.0
        if low in ("no", "false"):
            return 0.0
    try:
        return float(v)
    except (TypeError, ValueError):
        return np.nan


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    return str(v)
