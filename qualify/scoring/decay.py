"""Decay that is always true, and a queue that sorts by it through an index.

The score *now* is a closed form of columns stored at each recompute (ranking.py):
    value(t) = clamp(fit + min(eng_cap, E · 2^(-(t - t0)/h)), 0, cap),  shown as floor(value + 0.5).
Between events it moves only one way (towards clamp(fit)), so the time at which the *displayed*
integer next changes can be solved exactly:
    t* = t0 + h · log2(E / (target - fit)),  target = shown ∓ 0.5 (decaying down / a penalty fading).
Every write stores `score` (the integer shown now) and `score_changes_at` (t*, NULL when it will
never change again). `refresh_due()` rewrites only the leads whose t* has passed; a beat task runs
it every minute and the queue runs it before reading, so ordering by the plain `score` column —
which the partial queue indexes serve — is ordering by the score now, exactly, at integer
precision (what people see; ties by id).

Why not order by the expression itself: it was measured (bench/queue.py at 1M leads): evaluating
it over an SDR's 12,500 open leads cost ~100 ms of SQL per page, 450 ms over a 63,000-lead pool
and 1.7 s over a manager's 461,000-lead team, against a 50 ms budget, because no index can serve
an order that changes with time (fit does not decay, engagement does, so two leads can swap).
The cost of this design instead: one small UPDATE per displayed-point change per lead — a lead
with 40 engagement points is rewritten about 40 times over its decay, not every minute.
"""

from __future__ import annotations

import datetime

from django.db import connection
from django.utils import timezone

REFRESH_LIMIT = 5000

# The SQL functions (migrations 0004 and 0006) every writer, reader and the refresh use, so they
# cannot disagree: the SQL home of the score-now formula (ranking.py is the Python one). Both are
# plain SQL functions, which PostgreSQL inlines into the calling statement. Decay exponents stop
# at -1000 (2^-1000 is 1e-301, nothing anyone sees): PostgreSQL raises an error rather than
# underflow to zero, which a short half-life and an old engagement would otherwise reach.
FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION scoring_engagement(eng float8, eng_at timestamptz, hl float8, ecap float8, at timestamptz)
RETURNS float8
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN eng = 0 OR eng_at IS NULL OR hl <= 0 THEN 0::float8
         ELSE LEAST(COALESCE(ecap, 'Infinity'::float8), eng * power(2::float8, GREATEST(-1000::float8,
              -((extract(epoch FROM at)::float8 - extract(epoch FROM eng_at)::float8) / (hl * 86400.0::float8)))))
         END
$$;

CREATE OR REPLACE FUNCTION scoring_value(fit float8, eng float8, eng_at timestamptz, hl float8, ecap float8,
                                         cap float8, at timestamptz) RETURNS float8
LANGUAGE sql STABLE AS $$
  SELECT LEAST(COALESCE(cap, 'Infinity'::float8), GREATEST(0::float8, fit + scoring_engagement(eng, eng_at, hl, ecap, at)))
$$;

CREATE OR REPLACE FUNCTION scoring_next_change(fit float8, eng float8, eng_at timestamptz, hl float8, ecap float8,
                                               cap float8, at timestamptz) RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
DECLARE
  shown int;
  target float8;
  ratio float8;
BEGIN
  IF eng = 0 OR eng_at IS NULL OR hl <= 0 THEN
    RETURN NULL;
  END IF;
  shown := floor(scoring_value(fit, eng, eng_at, hl, ecap, cap, at) + 0.5);
  -- Where decay ends (engagement → 0); if that shows the same integer, nothing will change.
  IF floor(LEAST(COALESCE(cap, 'Infinity'::float8), GREATEST(0::float8, fit)) + 0.5) = shown THEN
    RETURN NULL;
  END IF;
  target := CASE WHEN eng > 0 THEN shown - 0.5 ELSE shown + 0.5 END;
  IF target = fit THEN
    RETURN NULL;
  END IF;
  ratio := eng / (target - fit);
  IF ratio <= 0 THEN
    RETURN NULL;
  END IF;
  RETURN GREATEST(
    to_timestamp(extract(epoch FROM eng_at)::float8 + hl * 86400.0 * ln(ratio) / ln(2::float8)),
    at + interval '1 millisecond');
END
$$;
"""

DROP_SQL = """
DROP FUNCTION IF EXISTS scoring_next_change(float8, float8, timestamptz, float8, float8, float8, timestamptz);
DROP FUNCTION IF EXISTS scoring_value(float8, float8, timestamptz, float8, float8, float8, timestamptz);
DROP FUNCTION IF EXISTS scoring_engagement(float8, timestamptz, float8, float8, timestamptz);
"""

ARGS = "score_fit, score_engagement, score_engagement_at, score_half_life_days, score_engagement_cap, score_cap"


def refresh_due(*, now: datetime.datetime | None = None, limit: int = REFRESH_LIMIT) -> int:
    """Rewrite `score` for leads whose displayed value changed since it was stored (at most
    `limit`, oldest first), and when it changes next. Rows another transaction holds are skipped
    (that transaction is writing them anyway). One statement; returns rows refreshed."""
    now = now or timezone.now()
    with connection.cursor() as cur:
        cur.execute(
            f"""UPDATE leads_lead SET score = floor(scoring_value({ARGS}, %(now)s) + 0.5)::int,
                       score_changes_at = scoring_next_change({ARGS}, %(now)s)
                WHERE id IN (SELECT id FROM leads_lead WHERE score_changes_at <= %(now)s
                             ORDER BY score_changes_at LIMIT %(limit)s FOR UPDATE SKIP LOCKED)""",
            {"now": now, "limit": limit},
        )
        return cur.rowcount


def refresh_all_due(*, now: datetime.datetime | None = None) -> int:
    """The beat sweep: refresh in batches until nothing is due."""
    total = 0
    while True:
        done = refresh_due(now=now)
        total += done
        if done < REFRESH_LIMIT:
            return total
