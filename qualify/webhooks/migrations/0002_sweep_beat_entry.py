"""The webhook sweep as a named, admin-editable beat entry (django-celery-beat): every 30 seconds
it delivers what is due, so delivery never depends on the after-commit task reaching Redis."""

from django.db import migrations


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every_30s, _ = Interval.objects.get_or_create(every=30, period="seconds")
    Task.objects.get_or_create(
        name="Deliver due webhooks",
        defaults={"task": "webhooks.sweep", "interval": every_30s, "description": "qualify.webhooks.tasks.sweep"},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="webhooks.sweep").delete()


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
