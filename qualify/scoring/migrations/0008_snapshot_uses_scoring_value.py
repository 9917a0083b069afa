"""The stage snapshot trigger computes the score through scoring_value() (migration 0004), the one
SQL home of the score-now formula (qualify/scoring/ranking.py), instead of its own copy."""

from django.db import migrations

from qualify.scoring.decay import FUNCTIONS_SQL

# scoring_value() now calls scoring_engagement(): both replaced, then the trigger uses them.
REPLACE_FUNCTIONS = FUNCTIONS_SQL

ARGS = "l.score_fit, l.score_engagement, l.score_engagement_at, l.score_half_life_days, l.score_engagement_cap, l.score_cap"

FUNCTION = f"""
CREATE OR REPLACE FUNCTION scoring_snapshot_stage() RETURNS trigger AS $$
BEGIN
  IF NEW.to_stage IN ('mql', 'handed_off', 'won', 'lost', 'disqualified') THEN
    INSERT INTO scoring_scoresnapshot (lead_id, version_id, kind, stage, "on", at, score, fit, engagement, grade)
    SELECT l.id, l.score_version_id,
           CASE NEW.to_stage WHEN 'mql' THEN 'mql' WHEN 'handed_off' THEN 'handoff' ELSE 'outcome' END,
           NEW.to_stage, (NEW.at AT TIME ZONE 'UTC')::date, NEW.at,
           CASE WHEN l.score_version_id IS NULL THEN l.score
                ELSE floor(scoring_value({ARGS}, NEW.at) + 0.5)::int END,
           l.score_fit,
           scoring_engagement(l.score_engagement, l.score_engagement_at, l.score_half_life_days,
                              l.score_engagement_cap, NEW.at),
           l.fit_grade
    FROM leads_lead l WHERE l.id = NEW.lead_id;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

ENGAGEMENT = """CASE WHEN l.score_engagement = 0 OR l.score_engagement_at IS NULL OR l.score_half_life_days <= 0
      THEN 0::float8
      ELSE LEAST(COALESCE(l.score_engagement_cap, 'Infinity'::float8), l.score_engagement * power(2::float8,
        -((extract(epoch FROM NEW.at)::float8 - extract(epoch FROM l.score_engagement_at)::float8)
          / (l.score_half_life_days * 86400.0::float8)))) END"""

PREVIOUS = f"""
CREATE OR REPLACE FUNCTION scoring_snapshot_stage() RETURNS trigger AS $$
BEGIN
  IF NEW.to_stage IN ('mql', 'handed_off', 'won', 'lost', 'disqualified') THEN
    INSERT INTO scoring_scoresnapshot (lead_id, version_id, kind, stage, "on", at, score, fit, engagement, grade)
    SELECT l.id, l.score_version_id,
           CASE NEW.to_stage WHEN 'mql' THEN 'mql' WHEN 'handed_off' THEN 'handoff' ELSE 'outcome' END,
           NEW.to_stage, (NEW.at AT TIME ZONE 'UTC')::date, NEW.at,
           CASE WHEN l.score_version_id IS NULL THEN l.score
                ELSE floor(LEAST(COALESCE(l.score_cap, 'Infinity'::float8),
                                 GREATEST(0::float8, l.score_fit + {ENGAGEMENT})) + 0.5)::int END,
           l.score_fit, {ENGAGEMENT}, l.fit_grade
    FROM leads_lead l WHERE l.id = NEW.lead_id;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql;
"""


class Migration(migrations.Migration):
    dependencies = [("scoring", "0007_run_lane_heartbeats")]
    operations = [migrations.RunSQL(REPLACE_FUNCTIONS, migrations.RunSQL.noop), migrations.RunSQL(FUNCTION, PREVIOUS)]
