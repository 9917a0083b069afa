"""Score history: a trigger snapshots the score whenever a lead reaches MQL, handoff or an outcome
(any code path that inserts a StageChange, bulk ones included), and a daily beat entry."""

from django.db import migrations

# The score as of NEW.at: the same arithmetic as qualify.scoring.ranking.SCORE_NOW_SQL.
ENGAGEMENT = """CASE WHEN l.score_engagement = 0 OR l.score_engagement_at IS NULL OR l.score_half_life_days <= 0
      THEN 0::float8
      ELSE LEAST(COALESCE(l.score_engagement_cap, 'Infinity'::float8), l.score_engagement * power(2::float8,
        -((extract(epoch FROM NEW.at)::float8 - extract(epoch FROM l.score_engagement_at)::float8)
          / (l.score_half_life_days * 86400.0::float8)))) END"""

CREATE = f"""
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
CREATE TRIGGER scoring_snapshot_stage AFTER INSERT ON leads_stagechange
  FOR EACH ROW EXECUTE FUNCTION scoring_snapshot_stage();
"""

DROP = """
DROP TRIGGER IF EXISTS scoring_snapshot_stage ON leads_stagechange;
DROP FUNCTION IF EXISTS scoring_snapshot_stage();
"""


def create_beat(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    nightly, _ = Crontab.objects.get_or_create(minute="15", hour="2", day_of_week="*", day_of_month="*", month_of_year="*")
    Task.objects.get_or_create(
        name="Daily score snapshot",
        defaults={"task": "scoring.daily_snapshot", "crontab": nightly, "description": "qualify.scoring.tasks.daily_snapshot"},
    )


def remove_beat(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="scoring.daily_snapshot").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0002_default_model"),
        ("leads", "0006_lead_score_version"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [
        migrations.RunSQL(CREATE, DROP),
        migrations.RunPython(create_beat, remove_beat),
    ]
