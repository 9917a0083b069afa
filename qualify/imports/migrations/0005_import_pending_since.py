"""When an import was queued (`pending_since`), so one whose broker message was lost is queued
again (jobs.take_over_stale_jobs). Jobs left pending before it count from their upload
(jobs._lost reads created_at when pending_since is empty; the release before this one sets none)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("imports", "0004_import_properties_value_maps"),
    ]

    operations = [
        migrations.AddField(
            model_name="importjob",
            name="pending_since",
            field=models.DateTimeField(
                blank=True, null=True,
                help_text="When it was queued; one pending for long (a lost broker message) is queued again.",
            ),
        ),
        migrations.AddIndex(
            model_name="importjob",
            index=models.Index(condition=models.Q(("status", "pending")), fields=["pending_since"],
                               name="importjob_pending_since"),
        ),
    ]
