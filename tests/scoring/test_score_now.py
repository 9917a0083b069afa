"""The score-now formula has one home per language (ranking.value_now, SQL scoring_value()); this
holds them equal over random stored columns and moments, penalties and caps included."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from qualify.leads.models import Lead
from qualify.scoring.ranking import SCORE_NOW_SQL, engagement_now, value_now

T0 = datetime.datetime(2026, 6, 1, tzinfo=datetime.timezone.utc)

# Points are whole or fractional rule points, never 1e-300: a product PostgreSQL cannot hold as a
# float8 (it raises on underflow) is not a score anyone has.
points = st.floats(-60, 120, allow_nan=False).map(lambda x: round(x, 6))

columns = st.fixed_dictionaries({
    "score_fit": st.floats(-20, 80, allow_nan=False).map(lambda x: round(x, 6)),
    "score_engagement": points,
    "score_half_life_days": st.sampled_from([0.0, 0.5, 7.0, 30.0]),
    "score_engagement_cap": st.one_of(st.none(), st.floats(0, 60, allow_nan=False)),
    "score_cap": st.one_of(st.none(), st.floats(0, 100, allow_nan=False)),
    "later_s": st.integers(0, 3000 * 86400),  # old enough for the exponent floor (2^-1000) at a 0.5-day half-life
})


@pytest.mark.django_db
@settings(max_examples=150, deadline=None)
@given(columns)
def test_python_and_sql_agree_on_the_score_now(cols):
    later = T0 + datetime.timedelta(seconds=cols.pop("later_s"))
    lead = Lead(score_version_id=1, score_engagement_at=T0, score=0, **cols)
    row = {**cols, "score_engagement_at": T0}
    sql = SCORE_NOW_SQL.replace('"leads_lead".', "")
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT {sql}, scoring_engagement(score_engagement, score_engagement_at, score_half_life_days,
                       score_engagement_cap, %s)
                FROM (SELECT 1 AS score_version_id, 0 AS score, %s::float8 AS score_fit, %s::float8 AS score_engagement,
                             %s::timestamptz AS score_engagement_at, %s::float8 AS score_half_life_days,
                             %s::float8 AS score_engagement_cap, %s::float8 AS score_cap) AS leads_lead""",
            [later, later, row["score_fit"], row["score_engagement"], T0, row["score_half_life_days"],
             row["score_engagement_cap"], row["score_cap"]],
        )
        value, engagement = cur.fetchone()
    assert value == pytest.approx(value_now(lead, later), abs=1e-6)
    assert engagement == pytest.approx(engagement_now(lead, later), abs=1e-6)
