from django.db import migrations

NAME = "Account figures follow decay"


def add(apps, schema_editor):
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = Interval.objects.get_or_create(every=15, period="minutes")
    Task.objects.get_or_create(name=NAME, defaults={"task": "abm.refresh_engaged", "interval": every,
                                                    "description": "qualify.abm.tasks.refresh_engaged"})
    minute, _ = Interval.objects.get_or_create(every=1, period="minutes")
    Task.objects.get_or_create(name="Account figures after scoring", defaults={
        "task": "abm.refresh_pending", "interval": minute, "description": "qualify.abm.tasks.refresh_pending"})


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=["abm.refresh_engaged", "abm.refresh_pending"]).delete()


class Migration(migrations.Migration):
    dependencies = [("abm", "0001_account_scoring_committee_mqa"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(add, remove)]
