"""Notification moves from sla to notifications without touching its table or rows.

The table sla_notification keeps its name (Meta.db_table); this migration only tells Django's
state that notifications now owns the model, and sla 0007 removes it from sla's state. The
`clock` foreign key (no database constraint, no index) becomes the plain integer `clock_id` in
state, the same bigint column, since this app sits below sla. The content type is renamed in place
so admin permissions granted on it keep working.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def rename_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="notifications", model="notification").exists():
        ContentType.objects.filter(app_label="sla", model="notification").update(app_label="notifications")


def restore_content_type(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="sla", model="notification").exists():
        ContentType.objects.filter(app_label="notifications", model="notification").update(app_label="sla")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("leads", "0001_initial"),
        ("sla", "0006_reconcile_new_mqls_beat"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Notification",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("kind", models.CharField(choices=[("sla_warning", "SLA warning"), ("sla_breach", "SLA breach"), ("sla_escalation", "SLA escalation"), ("assigned", "Lead assigned"), ("webhook_disabled", "Webhook endpoint disabled")], max_length=16)),
                        ("title", models.CharField(max_length=200)),
                        ("body", models.TextField(blank=True, default="")),
                        ("url", models.CharField(blank=True, default="", max_length=300)),
                        ("clock_id", models.BigIntegerField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("read_at", models.DateTimeField(blank=True, null=True)),
                        ("email_state", models.CharField(choices=[("none", "No email"), ("pending", "Waiting to be sent"), ("sent", "Sent")], default="none", max_length=8)),
                        ("lead", models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name="+", to="leads.lead")),
                        ("user", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="notifications", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "sla_notification",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [
                            models.Index(fields=["user", "-id"], name="notification_user_recent"),
                            models.Index(condition=models.Q(("read_at__isnull", True)), fields=["user"], name="notification_unread"),
                            models.Index(condition=models.Q(("email_state", "pending")), fields=["id"], name="notification_email_outbox"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_type, restore_content_type),
    ]
