"""The score *now*, decay included, from the columns stored at the last recompute: the one formula.

  score(now) = clamp(fit + min(eng_cap, E · 2^(-(now - t0)/h)), 0, cap)
with fit, E (engagement as of t0), t0, h (the model's half-life), eng_cap and cap on the lead.
It has one home per language: `value_now` here for Python, and the SQL function
`scoring_value(...)` (decay.FUNCTIONS_SQL) for every set-based reader and writer: SCORE_NOW_SQL
below, the decay refresh, the compiled scorer's next-change time and the snapshot trigger all call
that function (tests/scoring/test_score_now.py holds the two equal). As time passes only the
stored integer `score` is rewritten, and only at the moment its displayed value changes
(decay.refresh_due), so the queue can order by it through its indexes. Leads never scored by a
model (score_version IS NULL) keep whatever `score` they had.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from . import engine
from .decay import ARGS

if TYPE_CHECKING:
    from qualify.leads.models import Lead

# The score now of the row of leads_lead in scope; %s is the moment (a timestamptz).
SCORE_NOW_SQL = (
    'CASE WHEN "leads_lead"."score_version_id" IS NULL THEN "leads_lead"."score"::float8 '
    f"ELSE scoring_value({ARGS}, %s) END"
)


def to_us(moment: datetime.datetime) -> int:
    """Epoch microseconds, integer, exactly as the SQL path floors them."""
    delta = moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def value_now(lead: Lead, now: datetime.datetime | None = None) -> float:
    """The exact (unrounded) score of `lead` now: Python's side of scoring_value()."""
    if lead.score_version_id is None:
        return float(lead.score)
    value = max(0.0, lead.score_fit + engagement_now(lead, now))
    return value if lead.score_cap is None else min(lead.score_cap, value)


def score_now(lead: Lead, now: datetime.datetime | None = None) -> int:
    return engine.display(value_now(lead, now))


def engagement_now(lead: Lead, now: datetime.datetime | None = None) -> float:
    """Engagement points now (after the engagement cap), for the fit/engagement split."""
    if not lead.score_engagement or not lead.score_engagement_at or lead.score_half_life_days <= 0:
        return 0.0
    now = now or timezone.now()
    eng = engine.decayed(
        lead.score_engagement, to_us(lead.score_engagement_at), to_us(now), lead.score_half_life_days * 86400.0
    )
    return eng if lead.score_engagement_cap is None else min(lead.score_engagement_cap, eng)
