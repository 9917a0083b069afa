"""Beat entries that keep the reporting tables fresh: incremental every 5 minutes, full nightly."""

from django.db import migrations


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every_5, _ = Interval.objects.get_or_create(every=5, period="minutes")
    Task.objects.get_or_create(
        name="Refresh metrics (incremental)",
        defaults={"task": "analytics.refresh_rollups", "interval": every_5,
                  "description": "qualify.analytics.tasks.refresh_rollups: leads changed since the last run."},
    )
    nightly, _ = Crontab.objects.get_or_create(minute="15", hour="3", day_of_week="*", day_of_month="*", month_of_year="*")
    Task.objects.get_or_create(
        name="Refresh metrics (full)",
        defaults={"task": "analytics.refresh_rollups", "crontab": nightly, "kwargs": '{"full": true}',
                  "description": "qualify.analytics.tasks.refresh_rollups(full=True): everything, nightly."},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="analytics.refresh_rollups").delete()


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
