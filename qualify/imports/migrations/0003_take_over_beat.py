"""Beat entry that takes over CSV imports whose worker stopped (no heartbeat for minutes)."""

from django.db import migrations


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = Interval.objects.get_or_create(every=1, period="minutes")
    Task.objects.get_or_create(
        name="Take over stale imports",
        defaults={"task": "imports.take_over_stale_jobs", "interval": every_minute,
                  "description": "qualify.imports.tasks.take_over_stale_jobs: running imports whose worker stopped "
                                 "go back to pending and are queued again."},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="imports.take_over_stale_jobs").delete()


class Migration(migrations.Migration):
    dependencies = [("imports", "0002_heartbeat"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
