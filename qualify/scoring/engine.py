"""Score arithmetic: plain functions of plain values, no database.

A model version is frozen into a `ModelSpec` (built from the JSON stored on `ModelVersion.spec`).
The same definitions are compiled to SQL by `sql.py` for the bulk path; tests hold the two equal.

Semantics (what a RevOps admin configures, and what every path computes):

Fit (never decays)
    Each fit rule whose condition holds adds its points. A group's positive points are capped by
    the group cap; negative points (students, free mail, competitors) always subtract. The fit
    total's positive part is capped by the model's fit cap. Fit points map to a grade A–D.

Engagement (decays)
    Each event may match several engagement rules. Events are counted in tumbling windows of the
    rule's group (`window_days`, aligned to the Unix epoch, so a window is the same in Python and
    SQL and a new event only ever touches its own window):
      - rule cap: in one window a rule earns at most `cap` points; when more occurrences arrive,
        each counts pro rata (n occurrences of p points against cap c count c/(n·p) each);
      - group cap: in one window the group's positive points are capped the same way, pro rata;
      - decay: each counted occurrence decays from its own timestamp with the model's half-life.
    Pro rata (rather than "the first k occurrences") makes the result independent of arrival
    order and ties, so incremental, full and SQL paths agree exactly.

Score now
    clamp(fit + min(engagement_cap, engagement_now), 0, total_cap).

Why one half-life per model: engagement_now is then `E(t0) · 2^(-(now - t0)/h)` for a single
stored pair (E, t0), so "the score now" is a closed-form expression of five stored columns that
SQL can evaluate at query time (see `qualify/scoring/ranking.py`). With per-rule half-lives a lead
would need one accumulator per distinct half-life and the queue's ORDER BY would have to sum them.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

LN2 = math.log(2.0)
US = 1_000_000  # microseconds per second: windows are computed on integer microseconds
DAY_US = 86_400 * US

OPS = ("equals", "one_of", "range", "contains")
FIT, ENGAGEMENT = "fit", "engagement"
GRADES = ("A", "B", "C", "D")


# --- conditions ---------------------------------------------------------------------------------


def text(value: Any) -> str:
    """How a value compares: lower-cased text, None as empty. SQL does lower(coalesce(x::text, ''))."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip().lower()


def parse_range(value: str) -> tuple[float | None, float | None]:
    """'10..500', '..50', '1000..' → inclusive bounds; raises ValueError on anything else."""
    lo, sep, hi = value.partition("..")
    if not sep:
        raise ValueError("A range is written 'low..high'; either side may be empty.")
    lo_v = float(lo) if lo.strip() else None
    hi_v = float(hi) if hi.strip() else None
    if lo_v is None and hi_v is None:
        raise ValueError("A range needs at least one bound.")
    if lo_v is not None and hi_v is not None and lo_v > hi_v:
        raise ValueError("The low bound is above the high bound.")
    return lo_v, hi_v


def parse_list(value: str) -> list[str]:
    return [text(v) for v in value.split(",") if v.strip()]


def as_number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def check_condition(op: str, value: str) -> None:
    """Raise ValueError if `value` is not valid for `op` (admin forms call this)."""
    if op not in OPS:
        raise ValueError(f"Unknown operator '{op}'.")
    if op == "range":
        parse_range(value)
    elif op == "one_of" and not parse_list(value):
        raise ValueError("List at least one value, separated by commas.")
    elif op == "contains" and not value.strip():
        raise ValueError("'contains' needs some text.")


def matcher(op: str, expected: str):
    """matches(op, expected, ·) with the expected value parsed once (rules test thousands of rows)."""
    if op == "equals":
        want = text(expected)
        return lambda actual: text(actual) == want
    if op == "one_of":
        options = frozenset(parse_list(expected))
        return lambda actual: text(actual) in options
    if op == "contains":
        needle = text(expected)
        return lambda actual: needle in text(actual)
    if op == "range":
        lo, hi = parse_range(expected)

        def in_range(actual: Any) -> bool:
            number = as_number(actual)
            return number is not None and (lo is None or number >= lo) and (hi is None or number <= hi)

        return in_range
    raise ValueError(op)


def matches(op: str, expected: str, actual: Any) -> bool:
    if op == "equals":
        return text(actual) == text(expected)
    if op == "one_of":
        return text(actual) in parse_list(expected)
    if op == "contains":
        return text(expected) in text(actual)
    if op == "range":
        number = as_number(actual)
        if number is None:
            return False
        lo, hi = parse_range(expected)
        return (lo is None or number >= lo) and (hi is None or number <= hi)
    raise ValueError(op)


# --- the frozen model -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str

    def holds(self, facts: Mapping[str, Any]) -> bool:
        return matches(self.op, self.value, facts.get(self.field))


@dataclass(frozen=True)
class GroupSpec:
    key: int
    name: str
    kind: str
    cap: float | None = None
    window_days: int = 30

    @property
    def window_us(self) -> int:
        return self.window_days * DAY_US


@dataclass(frozen=True)
class RuleSpec:
    key: int
    group: int
    label: str
    points: float
    # Fit rules test a lead/account field; engagement rules an event type and optionally a property.
    field: str = ""
    event_type: str = ""
    prop: str = ""
    op: str = "equals"
    value: str = ""
    cap: float | None = None
    hard_trigger: bool = False

    @functools.cached_property
    def _test(self):
        return matcher(self.op, self.value)

    def fits(self, facts: Mapping[str, Any]) -> bool:
        return self._test(facts.get(self.field))

    def catches(self, event_type: str, properties: Mapping[str, Any]) -> bool:
        if event_type != self.event_type:
            return False
        if not self.prop:
            return True
        return self._test((properties or {}).get(self.prop))


@dataclass(frozen=True)
class ModelSpec:
    version_id: int
    model_id: int
    name: str
    number: int
    half_life_days: float
    mql_threshold: float
    fit_cap: float | None = None
    engagement_cap: float | None = None
    total_cap: float | None = None
    grade_a: float = 40
    grade_b: float = 25
    grade_c: float = 10
    segment: tuple[Condition, ...] = ()
    is_default: bool = False
    priority: int = 100
    groups: tuple[GroupSpec, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    _memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def half_life_s(self) -> float:
        return self.half_life_days * 86_400.0

    @property
    def label(self) -> str:
        return f"{self.name} v{self.number}"

    def group(self, key: int) -> GroupSpec:
        return self.group_map()[key]

    def group_map(self) -> dict[int, GroupSpec]:
        if "groups" not in self._memo:
            self._memo["groups"] = {g.key: g for g in self.groups}
        return self._memo["groups"]

    def fit_rules(self) -> list[RuleSpec]:
        groups = self.group_map()
        return [r for r in self.rules if groups[r.group].kind == FIT]

    def engagement_rules(self) -> list[RuleSpec]:
        if "eng" not in self._memo:
            groups = self.group_map()
            self._memo["eng"] = [r for r in self.rules if groups[r.group].kind == ENGAGEMENT]
        return self._memo["eng"]

    def rules_for(self, event_type: str) -> list[RuleSpec]:
        """Engagement rules that count `event_type` (events are matched only against these)."""
        if "by_type" not in self._memo:
            by_type: dict[str, list[RuleSpec]] = defaultdict(list)
            for rule in self.engagement_rules():
                by_type[rule.event_type].append(rule)
            self._memo["by_type"] = dict(by_type)
        return self._memo["by_type"].get(event_type, [])

    def covers(self, facts: Mapping[str, Any]) -> bool:
        return all(c.holds(facts) for c in self.segment)

    @classmethod
    def from_json(cls, version_id: int, data: Mapping[str, Any]) -> ModelSpec:
        return cls(
            version_id=version_id,
            model_id=data["model_id"],
            name=data["name"],
            number=data["number"],
            half_life_days=float(data["half_life_days"]),
            mql_threshold=float(data["mql_threshold"]),
            fit_cap=data.get("fit_cap"),
            engagement_cap=data.get("engagement_cap"),
            total_cap=data.get("total_cap"),
            grade_a=float(data["grade_a"]),
            grade_b=float(data["grade_b"]),
            grade_c=float(data["grade_c"]),
            segment=tuple(Condition(**c) for c in data.get("segment", [])),
            is_default=bool(data.get("is_default")),
            priority=int(data.get("priority", 100)),
            groups=tuple(GroupSpec(**g) for g in data["groups"]),
            rules=tuple(RuleSpec(**r) for r in data["rules"]),
        )


def choose_model(specs: Iterable[ModelSpec], facts: Mapping[str, Any]) -> ModelSpec | None:
    """The first model by priority whose segment conditions all hold; the default catches the rest."""
    default = None
    for spec in sorted(specs, key=lambda s: (s.is_default, s.priority, s.model_id)):
        if spec.is_default:
            default = default or spec
        elif spec.covers(facts):
            return spec
    return default


# --- fit ----------------------------------------------------------------------------------------


@dataclass
class Line:
    """One rule's part in a score, for explanations."""

    rule: int
    label: str
    group: str
    kind: str
    points: float  # what it adds now (after caps and decay)
    earned: float = 0.0  # engagement: points earned after caps, before decay
    occurrences: int = 0
    hard_trigger: bool = False

    @property
    def decayed(self) -> float:
        return self.earned - self.points if self.kind == ENGAGEMENT else 0.0


def _cap_positive(values: list[float], cap: float | None) -> tuple[float, float]:
    """(sum, factor applied to the positive part) with the positive part capped at `cap`."""
    pos = sum(v for v in values if v > 0)
    neg = sum(v for v in values if v < 0)
    factor = 1.0 if cap is None or pos <= cap else (cap / pos if pos > 0 else 1.0)
    return pos * factor + neg, factor


def fit_lines(spec: ModelSpec, facts: Mapping[str, Any]) -> tuple[float, list[Line]]:
    """Fit points and the lines behind them (group and total caps applied pro rata to positives)."""
    by_group: dict[int, list[RuleSpec]] = defaultdict(list)
    for rule in spec.fit_rules():
        if rule.fits(facts):
            by_group[rule.group].append(rule)
    lines: list[Line] = []
    group_totals: list[tuple[float, list[Line]]] = []
    for gkey, rules in by_group.items():
        group = spec.group(gkey)
        total, factor = _cap_positive([r.points for r in rules], group.cap)
        glines = [
            Line(r.key, r.label, group.name, FIT, r.points * (factor if r.points > 0 else 1.0)) for r in rules
        ]
        group_totals.append((total, glines))
        lines.extend(glines)
    fit, factor = _cap_positive([line.points for line in lines], spec.fit_cap)
    if factor != 1.0:
        for line in lines:
            if line.points > 0:
                line.points *= factor
    return fit, lines


def grade(spec: ModelSpec, fit: float) -> str:
    if fit >= spec.grade_a:
        return "A"
    if fit >= spec.grade_b:
        return "B"
    if fit >= spec.grade_c:
        return "C"
    return "D"


# --- engagement -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ev:
    """An event as the engine sees it: id, time in integer epoch microseconds, type, properties."""

    id: int
    t_us: int
    type: str
    properties: Mapping[str, Any]


def bucket_of(t_us: int, group: GroupSpec) -> int:
    return t_us // group.window_us


def decay_weight(t_us: int, start_us: int, half_life_s: float) -> float:
    """2^((t - start)/h): an occurrence's weight relative to its window's start."""
    return 2.0 ** (((t_us - start_us) / US) / half_life_s)


@dataclass
class UnitPart:
    """One rule's counted occurrences in one window: n, the decay sum s (relative to the window's
    start) and the latest time, which tells whether a hard trigger is recent."""

    n: int = 0
    s: float = 0.0
    last_us: int = 0


def window_parts(spec: ModelSpec, events: Iterable[Ev]) -> dict[tuple[int, int], dict[int, UnitPart]]:
    """Group matched occurrences by (group, window) → {rule: UnitPart}."""
    units: dict[tuple[int, int], dict[int, UnitPart]] = defaultdict(dict)
    groups = spec.group_map()
    h = spec.half_life_s
    for ev in events:
        for rule in spec.rules_for(ev.type):
            if not rule.catches(ev.type, ev.properties):
                continue
            group = groups[rule.group]
            b = bucket_of(ev.t_us, group)
            part = units[(rule.group, b)].setdefault(rule.key, UnitPart())
            part.n += 1
            part.s += decay_weight(ev.t_us, b * group.window_us, h)
            part.last_us = max(part.last_us, ev.t_us)
    return units


def unit_terms(spec: ModelSpec, gkey: int, parts: Mapping[int, UnitPart]) -> dict[int, tuple[float, float]]:
    """For one (group, window): {rule: (c, earned)} where c is the decayed contribution relative to
    the window's start (value at time T is c · 2^((start - T)/h)) and `earned` the points counted
    after the rule and group caps, before decay."""
    group = spec.group(gkey)
    rules = {r.key: r for r in spec.engagement_rules()}
    raw: dict[int, float] = {}
    rule_factor: dict[int, float] = {}
    for key, part in parts.items():
        rule = rules[key]
        full = part.n * abs(rule.points)
        f = 1.0 if rule.cap is None or full <= rule.cap else rule.cap / full
        rule_factor[key] = f
        raw[key] = part.n * rule.points * f
    _, group_factor = _cap_positive(list(raw.values()), group.cap)
    terms = {}
    for key, part in parts.items():
        rule = rules[key]
        f = rule_factor[key] * (group_factor if rule.points > 0 else 1.0)
        terms[key] = (rule.points * f * part.s, rule.points * f * part.n)
    return terms


def engagement_lines(spec: ModelSpec, events: Iterable[Ev], at_us: int) -> tuple[float, list[Line], set[int]]:
    """Engagement points as of `at_us`, per-rule lines, and the hard-trigger rules fired within
    their window (an occurrence newer than `at_us - window`)."""
    per_rule: dict[int, Line] = {}
    fired: set[int] = set()
    rules = {r.key: r for r in spec.engagement_rules()}
    total = 0.0
    for (gkey, b), parts in window_parts(spec, events).items():
        group = spec.group(gkey)
        scale = decay_weight(b * group.window_us, at_us, spec.half_life_s)
        for key, (c, earned) in unit_terms(spec, gkey, parts).items():
            rule = rules[key]
            line = per_rule.setdefault(
                key, Line(key, rule.label, group.name, ENGAGEMENT, 0.0, hard_trigger=rule.hard_trigger)
            )
            line.points += c * scale
            line.earned += earned
            line.occurrences += parts[key].n
            total += c * scale
            if rule.hard_trigger and parts[key].last_us > at_us - group.window_us:
                fired.add(key)
    return total, list(per_rule.values()), fired


# --- the score ------------------------------------------------------------------------------------


def combine(spec_engagement_cap: float | None, total_cap: float | None, fit: float, engagement: float) -> float:
    eng = engagement if spec_engagement_cap is None else min(spec_engagement_cap, engagement)
    value = max(0.0, fit + eng)
    return value if total_cap is None else min(total_cap, value)


def decayed(engagement: float, at_us: int, now_us: int, half_life_s: float) -> float:
    """Engagement worth `engagement` at `at_us`, as of `now_us`."""
    if not engagement or half_life_s <= 0:
        return 0.0
    return engagement * 2.0 ** (-((now_us - at_us) / US) / half_life_s)


def display(value: float) -> int:
    """The integer people see: half up, the same in SQL (floor(x + 0.5))."""
    return math.floor(value + 0.5)


@dataclass
class Score:
    spec: ModelSpec
    fit: float
    engagement: float  # as of `at_us`, before the engagement cap
    at_us: int
    grade: str
    lines: list[Line]
    fired: set[int]

    def value(self, now_us: int | None = None) -> float:
        eng = decayed(self.engagement, self.at_us, self.at_us if now_us is None else now_us, self.spec.half_life_s)
        return combine(self.spec.engagement_cap, self.spec.total_cap, self.fit, eng)


def score(spec: ModelSpec, facts: Mapping[str, Any], events: Iterable[Ev], at_us: int) -> Score:
    """The reference computation for one lead: fit from facts, engagement from all its events."""
    fit, flines = fit_lines(spec, facts)
    eng, elines, fired = engagement_lines(spec, list(events), at_us)
    return Score(spec, fit, eng, at_us, grade(spec, fit), flines + elines, fired)
