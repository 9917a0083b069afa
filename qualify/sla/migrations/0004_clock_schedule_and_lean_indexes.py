"""The sweep walks ClockSchedule (a narrow row per clock with a step to come) instead of the wide
clock rows; bulk-written tables keep only the indexes their readers use and no database-level
foreign keys on their hot columns; clock pages keep room for HOT breach updates."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_membership_capacity'),
        ('handoff', '0001_initial'),
        ('leads', '0008_lead_team_open_queue'),
        ('sla', '0003_clock_indexes_for_pages'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ClockSchedule',
            fields=[
                ('clock', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='schedule', serialize=False, to='sla.clock')),
                ('next_step', models.PositiveSmallIntegerField(default=0)),
                ('next_action_at', models.DateTimeField()),
            ],
        ),
        # Running clocks keep their place in the ladder.
        migrations.RunSQL(
            "INSERT INTO sla_clockschedule (clock_id, next_step, next_action_at) "
            "SELECT id, next_step, next_action_at FROM sla_clock WHERE status = 'open' AND next_action_at IS NOT NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
        # Room on each page for the sweep's breach update (breached_at is in no index: a HOT update).
        migrations.RunSQL("ALTER TABLE sla_clock SET (fillfactor = 85)", "ALTER TABLE sla_clock RESET (fillfactor)"),
        migrations.RemoveIndex(
            model_name='clock',
            name='sla_clock_due',
        ),
        migrations.RemoveIndex(
            model_name='clock',
            name='sla_clock_team_breached',
        ),
        migrations.RemoveIndex(
            model_name='notification',
            name='notification_user_time',
        ),
        migrations.RemoveField(
            model_name='clock',
            name='next_action_at',
        ),
        migrations.RemoveField(
            model_name='clock',
            name='next_step',
        ),
        migrations.AlterField(
            model_name='clock',
            name='calendar',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='clocks', to='sla.businesscalendar'),
        ),
        migrations.AlterField(
            model_name='clock',
            name='closed_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='clock',
            name='handoff',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='sla_clocks', to='handoff.handoff'),
        ),
        migrations.AlterField(
            model_name='clock',
            name='lead',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='sla_clocks', to='leads.lead'),
        ),
        migrations.AlterField(
            model_name='clock',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, help_text='Who must act: the SDR for touch clocks, the AE for handoff clocks.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='sla_clocks', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='clock',
            name='policy',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='clocks', to='sla.slapolicy'),
        ),
        migrations.AlterField(
            model_name='clock',
            name='team',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.team'),
        ),
        migrations.AlterField(
            model_name='escalation',
            name='clock',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='escalations', to='sla.clock'),
        ),
        migrations.AlterField(
            model_name='escalation',
            name='lead',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='leads.lead'),
        ),
        migrations.AlterField(
            model_name='escalation',
            name='owner',
            field=models.ForeignKey(blank=True, db_index=False, help_text="The clock's owner when the step ran.", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='escalation',
            name='team',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.team'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='clock',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='sla.clock'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='lead',
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='leads.lead'),
        ),
        migrations.AlterField(
            model_name='notification',
            name='user',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='notifications', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='clock',
            index=models.Index(condition=models.Q(('handoff__isnull', False)), fields=['handoff'], name='sla_clock_handoff'),
        ),
        migrations.AddIndex(
            model_name='clock',
            index=models.Index(fields=['team', 'started_at'], name='sla_clock_team_started'),
        ),
        migrations.AddIndex(
            model_name='notification',
            index=models.Index(fields=['user', '-id'], name='notification_user_recent'),
        ),
        migrations.AddIndex(
            model_name='clockschedule',
            index=models.Index(fields=['next_action_at'], name='sla_schedule_due'),
        ),
    ]
