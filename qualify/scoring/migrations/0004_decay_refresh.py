"""SQL functions for the score now and when its displayed value next changes, and the beat entry
that refreshes decayed scores every minute (see qualify/scoring/decay.py)."""

from django.db import migrations

from qualify.scoring.decay import DROP_SQL, FUNCTIONS_SQL


def create_beat(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = Interval.objects.get_or_create(every=1, period="minutes")
    Task.objects.get_or_create(
        name="Refresh decayed scores",
        defaults={"task": "scoring.refresh_decayed", "interval": every_minute,
                  "description": "qualify.scoring.tasks.refresh_decayed"},
    )


def remove_beat(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="scoring.refresh_decayed").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("scoring", "0003_history"),
        ("leads", "0007_lead_score_changes_at"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [
        migrations.RunSQL(FUNCTIONS_SQL, DROP_SQL),
        migrations.RunPython(create_beat, remove_beat),
    ]
