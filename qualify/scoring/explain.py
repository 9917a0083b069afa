"""Why a lead has its score: every rule that contributed, fit and engagement apart, what decayed.

Explanations are computed on demand from the lead's events with the version that produced its
stored score (never the newer draft), as of now, so they agree with the number shown beside them.
Costs 2 queries (version, events) for one lead; `explain_many` costs 2 for a page of leads.

SIGNALS is an extension point: dotted paths of `f(lead) -> list[str]`, sentences that are not
points but belong beside them (the account is an MQA, "3 people at Acme engaged this week"),
added by `explain()` for one lead (the lead page, the score API), never by `explain_many`.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

from django.utils import timezone
from django.utils.module_loading import import_string

from qualify.leads.models import Event, Lead

from . import engine, sql
from .engine import Line, ModelSpec
from .models import ModelVersion
from .ranking import score_now, to_us, value_now

SIGNALS: list[str] = ["qualify.abm.panels.score_signals"]


@dataclass
class Explanation:
    spec: ModelSpec | None
    total: int
    fit: float = 0.0
    engagement: float = 0.0  # now, before the engagement cap
    engagement_counted: float = 0.0  # now, after the engagement cap
    grade: str = ""
    lines: list[Line] = field(default_factory=list)
    fired: set[int] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    signals: list[str] = field(default_factory=list)

    @property
    def fit_lines(self) -> list[Line]:
        return sorted((x for x in self.lines if x.kind == engine.FIT), key=lambda x: -x.points)

    @property
    def engagement_lines(self) -> list[Line]:
        return sorted((x for x in self.lines if x.kind == engine.ENGAGEMENT), key=lambda x: -abs(x.points))

    @property
    def decayed(self) -> float:
        return sum(x.decayed for x in self.lines)

    @property
    def threshold(self) -> float | None:
        return self.spec.mql_threshold if self.spec else None

    def items(self) -> list[dict[str, Any]]:
        """Plain dicts for the handoff packet and the API."""
        out = []
        for line in self.fit_lines + self.engagement_lines:
            item = {"label": line.label, "points": round(line.points, 1), "kind": line.kind, "group": line.group}
            if line.kind == engine.ENGAGEMENT:
                item.update(
                    earned=round(line.earned, 1), decayed=round(line.decayed, 1), occurrences=line.occurrences,
                    hard_trigger=line.hard_trigger,
                )
            out.append(item)
        return out


def _specs(version_ids: Iterable[int]) -> dict[int, ModelSpec]:
    from .scores import _spec_cache

    wanted = set(version_ids)
    missing = [v for v in wanted if v not in _spec_cache]
    for version in ModelVersion.objects.filter(pk__in=missing):
        _spec_cache[version.pk] = version.as_spec()
    return {v: _spec_cache[v] for v in wanted if v in _spec_cache}


def _build(lead: Lead, spec: ModelSpec | None, events: list[engine.Ev], now: datetime.datetime) -> Explanation:
    if spec is None:
        return Explanation(None, score_now(lead, now), notes=["Not scored by a model yet."])
    s = engine.score(spec, sql.lead_facts(lead), events, to_us(now))
    eng_counted = s.engagement if spec.engagement_cap is None else min(spec.engagement_cap, s.engagement)
    ex = Explanation(
        spec, engine.display(value_now(lead, now)), s.fit, s.engagement, eng_counted, s.grade, s.lines, s.fired
    )
    if spec.engagement_cap is not None and s.engagement > spec.engagement_cap:
        ex.notes.append(f"Engagement capped at {spec.engagement_cap:g} (earned {s.engagement:.0f} now).")
    raw = s.fit + eng_counted
    if spec.total_cap is not None and raw > spec.total_cap:
        ex.notes.append(f"Score capped at {spec.total_cap:g}.")
    if raw < 0:
        ex.notes.append("Negative points outweigh the rest; the score floors at 0.")
    return ex


def explain(lead: Lead, *, now: datetime.datetime | None = None) -> Explanation:
    now = now or timezone.now()
    spec = _specs([lead.score_version_id]).get(lead.score_version_id) if lead.score_version_id else None
    events = []
    if spec is not None:
        events = [
            engine.Ev(i, to_us(t), ty, p or {})
            for i, t, ty, p in Event.objects.filter(lead=lead).values_list("id", "occurred_at", "type", "properties")
        ]
    ex = _build(lead, spec, events, now)
    for path in SIGNALS:
        ex.signals += import_string(path)(lead)
    return ex


def explain_many(leads: list[Lead], *, now: datetime.datetime | None = None) -> dict[int, Explanation]:
    """Explanations for a page of leads (accounts must be loaded): 2 queries in all."""
    now = now or timezone.now()
    specs = _specs(lead.score_version_id for lead in leads if lead.score_version_id)
    events: dict[int, list[engine.Ev]] = defaultdict(list)
    scored = [lead.pk for lead in leads if lead.score_version_id]
    if scored:
        for lid, i, t, ty, p in Event.objects.filter(lead_id__in=scored).values_list(
            "lead_id", "id", "occurred_at", "type", "properties"
        ):
            events[lid].append(engine.Ev(i, to_us(t), ty, p or {}))
    return {lead.pk: _build(lead, specs.get(lead.score_version_id), events[lead.pk], now) for lead in leads}


def explanation_items(lead: Lead) -> list[dict[str, Any]]:
    return explain(lead).items()
