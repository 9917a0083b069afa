"""The score *now*, decay included, from the columns stored at the last recompute.

  score(now) = clamp(fit + min(eng_cap, E · 2^(-(now - t0)/h)), 0, cap)
with fit, E (engagement as of t0), t0, h (the model's half-life), eng_cap and cap on the lead.
Nothing is written as time passes. The stored integer `score`, which the queue orders by through
its partial indexes, is kept equal to this value's displayed integer by decay.py (rewritten at
the solved moment it changes); SCORE_NOW_SQL is the same arithmetic for set-based readers (daily
snapshots). Leads never scored by a model (score_version IS NULL) keep whatever `score` they had.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

from . import engine

if TYPE_CHECKING:
    from qualify.leads.models import Lead

# One expression, also used by the snapshot trigger (see migration 0003) with the same shape.
SCORE_NOW_SQL = """
CASE WHEN "leads_lead"."score_version_id" IS NULL THEN "leads_lead"."score"::float8 ELSE
  LEAST(COALESCE("leads_lead"."score_cap", 'Infinity'::float8), GREATEST(0::float8,
    "leads_lead"."score_fit" + CASE
      WHEN "leads_lead"."score_engagement" = 0 OR "leads_lead"."score_engagement_at" IS NULL
        OR "leads_lead"."score_half_life_days" <= 0 THEN 0::float8
      ELSE LEAST(COALESCE("leads_lead"."score_engagement_cap", 'Infinity'::float8),
        "leads_lead"."score_engagement" * power(2::float8,
          -((%s::float8 - extract(epoch from "leads_lead"."score_engagement_at")::float8)
            / ("leads_lead"."score_half_life_days" * 86400.0::float8))))
    END))
END"""


def to_us(moment: datetime.datetime) -> int:
    """Epoch microseconds, integer, exactly as the SQL path floors them."""
    delta = moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def value_now(lead: Lead, now: datetime.datetime | None = None) -> float:
    """The exact (unrounded) score of `lead` now; mirrors SCORE_NOW_SQL."""
    if lead.score_version_id is None:
        return float(lead.score)
    now = now or timezone.now()
    eng = 0.0
    if lead.score_engagement and lead.score_engagement_at and lead.score_half_life_days > 0:
        eng = lead.score_engagement * 2.0 ** (
            -((now.timestamp() - lead.score_engagement_at.timestamp()) / (lead.score_half_life_days * 86400.0))
        )
        if lead.score_engagement_cap is not None:
            eng = min(lead.score_engagement_cap, eng)
    value = max(0.0, lead.score_fit + eng)
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
