"""Heartbeat and attempts for import jobs (issue 12). Jobs running at deploy time count their
start as their last heartbeat, so one whose worker died before the deploy is taken over too."""

from django.conf import settings
from django.db import migrations, models


def running_since_start(apps, schema_editor):
    ImportJob = apps.get_model("imports", "ImportJob")
    ImportJob.objects.filter(status="running", heartbeat_at__isnull=True).update(
        heartbeat_at=models.F("started_at"), attempts=1
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_membership_capacity'),
        ('imports', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='importjob',
            name='attempts',
            field=models.IntegerField(default=0, help_text='Runs started; a worker may only write for its own attempt.'),
        ),
        migrations.AddField(
            model_name='importjob',
            name='heartbeat_at',
            field=models.DateTimeField(blank=True, help_text='Last sign of life of the worker running it; a stale one is taken over.', null=True),
        ),
        migrations.AddIndex(
            model_name='importjob',
            index=models.Index(condition=models.Q(('status', 'running')), fields=['heartbeat_at'], name='importjob_running_heartbeat'),
        ),
        migrations.RunPython(running_since_start, migrations.RunPython.noop),
    ]
