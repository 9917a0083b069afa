"""ImportJob moves from analytics to imports (issue 11) without touching its table or rows.

The table analytics_importjob was created by analytics 0001 and 0003 and keeps its name
(Meta.db_table); this migration only tells Django's state that imports now owns the model, and
analytics 0007 removes it from analytics' state. Nothing references the table by foreign key and
pghistory does not track it, so there are no triggers or event tables to move. The content type
is renamed in place so admin permissions granted on it keep working.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def rename_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="imports", model="importjob").exists():
        ContentType.objects.filter(app_label="analytics", model="importjob").update(app_label="imports")


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="analytics", model="importjob").exists():
        ContentType.objects.filter(app_label="imports", model="importjob").update(app_label="analytics")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("accounts", "0002_membership_capacity"),
        ("analytics", "0006_drop_handoff_watermark"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('leads', 'Leads (and their accounts)'), ('accounts', 'Accounts'), ('outcomes', 'Outcomes (won / lost) of existing leads')], max_length=16)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('filename', models.CharField(blank=True, default='', max_length=255)),
                        ('content', models.BinaryField()),
                        ('header', models.JSONField(default=list)),
                        ('mapping', models.JSONField(default=dict, help_text='CSV column → field.')),
                        ('dry_run', models.BooleanField(default=True)),
                        ('mode', models.CharField(choices=[('all_or_nothing', 'All or nothing: import only if every row is good'), ('good_rows', 'Import the good rows, skip the bad ones')], default='all_or_nothing', max_length=16)),
                        ('defaults', models.JSONField(blank=True, default=dict, help_text="Values for fields the file leaves empty, e.g. {'source': 'inbound'}.")),
                        ('status', models.CharField(choices=[('uploaded', 'Uploaded: check the mapping'), ('pending', 'Waiting'), ('running', 'Running'), ('done', 'Done'), ('refused', 'Refused: bad rows, nothing imported'), ('failed', 'Failed')], default='uploaded', max_length=16)),
                        ('total_rows', models.IntegerField(default=0)),
                        ('processed_rows', models.IntegerField(default=0)),
                        ('good_rows', models.IntegerField(default=0)),
                        ('bad_rows', models.IntegerField(default=0)),
                        ('errors', models.JSONField(default=list, help_text='[{row, column, message}] for the first bad rows.')),
                        ('warnings', models.JSONField(default=list)),
                        ('created', models.JSONField(default=dict, help_text="What the import wrote, e.g. {'leads': 10}.")),
                        ('message', models.TextField(blank=True, default='')),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('imported_at', models.DateTimeField(blank=True, help_text='Set once rows were written; the job cannot run again.', null=True)),
                        ('created_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('team', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.team')),
                    ],
                    options={
                        'db_table': 'analytics_importjob',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['created_by', '-created_at'], name='importjob_user_time')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_type, restore_content_type),
    ]
