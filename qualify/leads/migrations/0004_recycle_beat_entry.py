"""The nurture-recycle sweep as a named, admin-editable beat entry (django-celery-beat)."""

from django.db import migrations


def create(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every_hour, _ = Interval.objects.get_or_create(every=1, period="hours")
    Task.objects.get_or_create(
        name="Recycle nurtured leads whose date has come",
        defaults={"task": "leads.recycle_nurtured", "interval": every_hour, "description": "qualify.leads.tasks.recycle_nurtured"},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="leads.recycle_nurtured").delete()


class Migration(migrations.Migration):
    dependencies = [("leads", "0003_stagechange_reason_related"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
