"""An account's people, their engagement now and what it adds up to: engagement by department and
persona, engaged people, buying-committee coverage and the account score.

Engagement is each person's decayed engagement from the one score-now formula (the SQL function
`scoring_engagement()`, decay.FUNCTIONS_SQL), summed: the account's figure is exactly the sum of
what each lead page shows (tests/abm/test_measures.py holds them equal). `people()` costs one
query for any number of accounts (the leads_lead account index, and the events' (lead, time)
index for "active this week"); `summarise()` is plain Python over its rows.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from qualify.leads.models import Persona
from qualify.scoring.models import ScoringModel

from .models import AccountScoring, Measure, split_list

WEEK = datetime.timedelta(days=7)


@dataclass
class Person:
    lead_id: int
    account_id: int
    name: str
    title: str
    department: str
    persona: str
    stage: str
    owner_id: int | None
    engagement: float
    fit: float
    model_id: int | None
    active_week: bool
    engaged: bool = False


@dataclass
class RoleCoverage:
    name: str
    filled_by: list[Person]  # engaged people who fill it
    known: list[Person]  # people who match it but are not engaged now

    @property
    def covered(self) -> bool:
        return bool(self.filled_by)


@dataclass
class Summary:
    scoring: AccountScoring | None
    people: list[Person]
    engagement: float = 0.0
    by_department: list[tuple[str, float, int]] = field(default_factory=list)  # (department, points, people)
    by_persona: list[tuple[str, float, int]] = field(default_factory=list)
    engaged_people: int = 0
    departments_engaged: int = 0
    engaged_this_week: int = 0
    fit: float = 0.0
    roles: list[RoleCoverage] = field(default_factory=list)
    lines: list[tuple[str, int]] = field(default_factory=list)  # account rules that fired: (label, points)
    account_score: int = 0

    @property
    def roles_covered(self) -> int:
        return sum(1 for r in self.roles if r.covered)

    @property
    def coverage_percent(self) -> float:
        return 100.0 * self.roles_covered / len(self.roles) if self.roles else 0.0

    @property
    def mqa_threshold(self) -> int | None:
        return self.scoring.mqa_threshold if self.scoring else None

    def measure(self, name: str) -> float:
        return {
            Measure.ENGAGED_PEOPLE: self.engaged_people, Measure.DEPARTMENTS: self.departments_engaged,
            Measure.COVERAGE: self.coverage_percent, Measure.FIT: self.fit, Measure.ACTIVE_WEEK: self.engaged_this_week,
        }[name]


PEOPLE_SQL = f"""
SELECT l.id, l.account_id, trim(l.first_name || ' ' || l.last_name), l.title, l.department, l.persona, l.stage,
       l.owner_id,
       CASE WHEN l.score_version_id IS NULL THEN 0 ELSE scoring_engagement(l.score_engagement, l.score_engagement_at,
            l.score_half_life_days, l.score_engagement_cap, %(now)s) END,
       l.score_fit, v.model_id,
       EXISTS (SELECT 1 FROM leads_event e WHERE e.lead_id = l.id AND e.occurred_at >= %(week_ago)s
               AND e.occurred_at <= %(now)s)
FROM leads_lead l JOIN leads_account a ON a.id = l.account_id
LEFT JOIN scoring_modelversion v ON v.id = l.score_version_id
WHERE l.account_id = ANY(%(ids)s) AND l.team_id = a.team_id
ORDER BY l.account_id, l.id
"""


def people(account_ids: list[int], *, now: datetime.datetime) -> dict[int, list[Person]]:
    """Every person at these accounts (of the account's team), with engagement now. One query."""
    out: dict[int, list[Person]] = defaultdict(list)
    if not account_ids:
        return out
    with connection.cursor() as cur:
        cur.execute(PEOPLE_SQL, {"ids": list(account_ids), "now": now, "week_ago": now - WEEK})
        for row in cur.fetchall():
            out[row[1]].append(Person(*row))
    return out


def scorings() -> tuple[dict[int, AccountScoring], AccountScoring | None]:
    """Account scoring per scoring model id, with roles and rules, and the default model's. 3 queries."""
    by_model = {s.model_id: s for s in AccountScoring.objects.select_related("model").prefetch_related("roles", "rules")}
    default_id = ScoringModel.objects.filter(is_default=True).values_list("pk", flat=True).first()
    return by_model, by_model.get(default_id)


def scoring_for(persons: list[Person], by_model: dict[int, AccountScoring], default: AccountScoring | None):
    """The account is judged by the model that scores most of its people (ties: the lower id); the
    default model's when none of them is scored by a model that has account scoring."""
    counts = Counter(p.model_id for p in persons if p.model_id in by_model)
    if not counts:
        return default
    best = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    return by_model[best]


def fills(role, person: Person) -> bool:
    if person.persona and person.persona in role.persona_set:
        return True
    departments, keywords = role.department_set, role.keyword_list
    if not departments and not keywords:
        return False
    if departments and person.department.strip().lower() not in departments:
        return False
    title = person.title.lower()
    return not keywords or any(k in title for k in keywords)


def _grouped(persons: list[Person], key) -> list[tuple[str, float, int]]:
    points: dict[str, float] = defaultdict(float)
    heads: Counter = Counter()
    for p in persons:
        points[key(p)] += p.engagement
        heads[key(p)] += 1
    return sorted(((k, v, heads[k]) for k, v in points.items()), key=lambda t: (-t[1], t[0]))


def summarise(persons: list[Person], scoring: AccountScoring | None, *, detail: bool = True) -> Summary:
    """Everything the account page, the API and the batch show, from the people's rows (`detail`:
    the splits by department and persona, which the batch does not store)."""
    engaged_min = scoring.engaged_points if scoring else 5.0
    for p in persons:
        p.engaged = p.engagement >= engaged_min
    engaged = [p for p in persons if p.engaged]
    s = Summary(scoring=scoring, people=persons)
    s.engagement = sum((p.engagement for p in persons), 0.0)  # a float even with nobody (the batch upsert needs one type)
    if detail:
        s.by_department = _grouped(persons, lambda p: p.department.strip() or "Unknown department")
        persona_label = dict(Persona.choices)
        s.by_persona = _grouped(persons, lambda p: persona_label.get(p.persona, p.persona) or "Unknown")
    s.engaged_people = len(engaged)
    s.departments_engaged = len({p.department.strip().lower() for p in engaged if p.department.strip()})
    s.engaged_this_week = sum(1 for p in persons if p.active_week)
    s.fit = max((p.fit for p in persons), default=0.0)
    if scoring is not None:
        for role in scoring.roles.all():
            matched = [p for p in persons if fills(role, p)]
            s.roles.append(RoleCoverage(role.name, [p for p in matched if p.engaged], [p for p in matched if not p.engaged]))
        for rule in scoring.rules.all():
            if s.measure(rule.measure) >= rule.at_least:
                s.lines.append((rule.label, rule.points))
        s.account_score = max(0, sum(points for _, points in s.lines))
    return s


def summary_for(account_id: int, *, now: datetime.datetime | None = None) -> Summary:
    """One account, live (the account page, the API, the lead page's panel). 4 queries."""
    persons = people([account_id], now=now or timezone.now())[account_id]
    by_model, default = scorings()
    return summarise(persons, scoring_for(persons, by_model, default))
