"""ImportJob now belongs to the imports app (see imports 0001): drop it from analytics' state only;
the table analytics_importjob and its rows stay where they are."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("analytics", "0006_drop_handoff_watermark"),
        ("imports", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="ImportJob")],
            database_operations=[],
        ),
    ]
