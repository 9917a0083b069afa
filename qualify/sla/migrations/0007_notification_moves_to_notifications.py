"""Notification now belongs to the notifications app (see notifications 0001): drop it from sla's
state only; the table sla_notification and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("sla", "0006_reconcile_new_mqls_beat"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notification")],
            database_operations=[],
        ),
    ]
