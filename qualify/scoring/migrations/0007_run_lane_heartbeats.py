from django.db import migrations, models

from qualify.scoring import beat

# Re-queues recompute lanes whose worker died (qualify/scoring/runs.py, take_over_stale).
BEAT = [("Take over stale score runs", "scoring.take_over_stale_runs")]


def create_beat(apps, schema_editor):
    beat.add_every_minute(apps, BEAT)


def remove_beat(apps, schema_editor):
    beat.remove(apps, BEAT)


class Migration(migrations.Migration):

    dependencies = [
        ('scoring', '0006_score_reconciler'),
        ('django_celery_beat', '0019_alter_periodictasks_options'),
    ]

    operations = [
        migrations.AddField(
            model_name='scorerun',
            name='lane_beats',
            field=models.JSONField(blank=True, default=dict, help_text='When each lane last committed a batch (or was queued): a lane silent for minutes lost its worker.'),
        ),
        migrations.RunPython(create_beat, remove_beat),
    ]
