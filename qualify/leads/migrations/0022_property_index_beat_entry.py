"""The number-property range index sync (leads/property_indexes.py) as an hourly beat entry, so a
database whose definitions changed while no worker listened catches up."""

from django.db import migrations

NAME = "Sync range indexes of number properties"
TASK = "leads.sync_property_indexes"


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every_hour, _ = Interval.objects.get_or_create(every=1, period="hours")
    Task.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": every_hour, "description": "qualify.leads.tasks.sync_property_indexes"})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0021_lead_predicted"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
