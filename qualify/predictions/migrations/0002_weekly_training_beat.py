"""The weekly retraining as a named beat entry, editable in admin (*Periodic tasks*): Mondays
04:30, outcomes of the last 365 days (its kwargs)."""

from django.db import migrations

NAME = "Retrain predictions (weekly)"


def create(apps, schema_editor):
    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    weekly, _ = Crontab.objects.get_or_create(minute="30", hour="4", day_of_week="1", day_of_month="*", month_of_year="*")
    Task.objects.get_or_create(
        name=NAME,
        defaults={"task": "predictions.train_weekly", "crontab": weekly, "kwargs": '{"window_days": 365}',
                  "description": "qualify.predictions.tasks.train_weekly: train a new version; it replaces the "
                                 "active one only if not worse on the same held-out leads."},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("predictions", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
