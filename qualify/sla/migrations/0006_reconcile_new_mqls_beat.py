"""Beat entry: route and clock new MQLs whose after-commit listeners never ran (qualify/sla/reconcile.py)."""

from django.db import migrations

NAME, TASK = "Reconcile new MQLs (routing, first-touch clocks)", "sla.reconcile_new_mqls"


def create_beat(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = Interval.objects.get_or_create(every=1, period="minutes")
    Task.objects.get_or_create(name=NAME, defaults={"task": TASK, "interval": every_minute,
                                                    "description": "qualify.sla.tasks.reconcile_new_mqls"})


def remove_beat(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task=TASK).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0005_notification_kind_webhook_disabled"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create_beat, remove_beat)]
