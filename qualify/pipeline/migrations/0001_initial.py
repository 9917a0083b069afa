"""Sub-stages and re-qualification move from reviews to pipeline (issue 11) without touching
their tables or rows.

The tables (reviews_requaltrigger, reviews_opportunitystage, reviews_leadopportunitystage,
reviews_opportunitystagechange, reviews_requalification, and the pghistory event tables
reviews_requaltriggerevent and reviews_opportunitystageevent) were created by reviews 0001 and keep
their names (Meta.db_table): the models are created here in state only, and reviews 0003 removes
them from reviews' state. The audit rows stay where they are.

The triggers are not state only. pgtrigger names a trigger in PostgreSQL after its model's app
label ("pgtrigger_insert_insert_<hash of 'pipeline.RequalTrigger:insert_insert'>"), so the moved
models' triggers (pghistory's insert/update trackers, the append-only guard of sub-stage history)
are installed here under their new names, and reviews 0003 drops the old ones. The content types
are renamed in place so admin permissions granted on them keep working.
"""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


MOVED = [
    "requaltrigger", "requaltriggerevent", "opportunitystage", "opportunitystageevent", "leadopportunitystage",
    "opportunitystagechange", "requalification",
]


def rename_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="pipeline", model=model).exists():
            ContentType.objects.filter(app_label="reviews", model=model).update(app_label="pipeline")


def restore_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label="reviews", model=model).exists():
            ContentType.objects.filter(app_label="pipeline", model=model).update(app_label="reviews")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0003_api_token'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('leads', '0024_owner_sort_indexes'),
        ('pghistory', '0007_auto_20250421_0444'),
        ('reviews', '0002_defaults_and_beat'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='OpportunityStage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=80, unique=True)),
                        ('position', models.PositiveIntegerField(default=0)),
                        ('checkpoint', models.BooleanField(default=False, help_text='Entering it asks the owner to re-confirm the framework answers.')),
                        ('active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'reviews_opportunitystage',
                        'ordering': ['position', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='OpportunityStageChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        'db_table': 'reviews_opportunitystagechange',
                        'ordering': ['-at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='OpportunityStageEvent',
                    fields=[
                        ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                        ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                        ('pgh_label', models.TextField(help_text='The event label.')),
                        ('id', models.BigIntegerField()),
                        ('name', models.CharField(max_length=80)),
                        ('position', models.PositiveIntegerField(default=0)),
                        ('checkpoint', models.BooleanField(default=False, help_text='Entering it asks the owner to re-confirm the framework answers.')),
                        ('active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'reviews_opportunitystageevent',
                        'abstract': False,
                    },
                ),
                migrations.CreateModel(
                    name='Requalification',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('mql_decay', 'MQL score decayed, no touch for N days → Nurture'), ('opportunity_inactive', 'Opportunity without activity for N days → flag'), ('checkpoint_stage', 'Opportunity enters a checkpoint sub-stage → re-confirm answers')], max_length=24)),
                        ('reason', models.TextField()),
                        ('status', models.CharField(choices=[('applied', 'Applied (moved to Nurture)'), ('open', 'Waiting for the owner'), ('resolved', 'Re-confirmed')], max_length=16)),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('resolution_note', models.TextField(blank=True, default='')),
                    ],
                    options={
                        'db_table': 'reviews_requalification',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='RequalTrigger',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=120)),
                        ('kind', models.CharField(choices=[('mql_decay', 'MQL score decayed, no touch for N days → Nurture'), ('opportunity_inactive', 'Opportunity without activity for N days → flag'), ('checkpoint_stage', 'Opportunity enters a checkpoint sub-stage → re-confirm answers')], max_length=24)),
                        ('days', models.PositiveIntegerField(default=30, help_text='N: days without a touch / without activity.', validators=[django.core.validators.MinValueValidator(1)])),
                        ('score_threshold', models.IntegerField(blank=True, help_text="MQL decay: below this score. Empty: the scoring model's MQL threshold (50 without one).", null=True)),
                        ('task_due_days', models.PositiveIntegerField(default=3, help_text="The owner's task is due this many days later.")),
                        ('active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'reviews_requaltrigger',
                        'ordering': ['kind', 'team__name', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='RequalTriggerEvent',
                    fields=[
                        ('pgh_id', models.AutoField(primary_key=True, serialize=False)),
                        ('pgh_created_at', models.DateTimeField(auto_now_add=True)),
                        ('pgh_label', models.TextField(help_text='The event label.')),
                        ('id', models.BigIntegerField()),
                        ('name', models.CharField(max_length=120)),
                        ('kind', models.CharField(choices=[('mql_decay', 'MQL score decayed, no touch for N days → Nurture'), ('opportunity_inactive', 'Opportunity without activity for N days → flag'), ('checkpoint_stage', 'Opportunity enters a checkpoint sub-stage → re-confirm answers')], max_length=24)),
                        ('days', models.PositiveIntegerField(default=30, help_text='N: days without a touch / without activity.', validators=[django.core.validators.MinValueValidator(1)])),
                        ('score_threshold', models.IntegerField(blank=True, help_text="MQL decay: below this score. Empty: the scoring model's MQL threshold (50 without one).", null=True)),
                        ('task_due_days', models.PositiveIntegerField(default=3, help_text="The owner's task is due this many days later.")),
                        ('active', models.BooleanField(default=True)),
                    ],
                    options={
                        'db_table': 'reviews_requaltriggerevent',
                        'abstract': False,
                    },
                ),
                migrations.CreateModel(
                    name='LeadOpportunityStage',
                    fields=[
                        ('lead', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='opportunity_stage', serialize=False, to='leads.lead')),
                        ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('changed_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('stage', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='pipeline.opportunitystage')),
                    ],
                    options={
                        'db_table': 'reviews_leadopportunitystage',
                    },
                ),
                migrations.AddField(
                    model_name='opportunitystagechange',
                    name='by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AddField(
                    model_name='opportunitystagechange',
                    name='from_stage',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='pipeline.opportunitystage'),
                ),
                migrations.AddField(
                    model_name='opportunitystagechange',
                    name='lead',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='opportunity_stage_changes', to='leads.lead'),
                ),
                migrations.AddField(
                    model_name='opportunitystagechange',
                    name='to_stage',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='pipeline.opportunitystage'),
                ),
                migrations.AddField(
                    model_name='opportunitystageevent',
                    name='pgh_context',
                    field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context'),
                ),
                migrations.AddField(
                    model_name='opportunitystageevent',
                    name='pgh_obj',
                    field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='history', to='pipeline.opportunitystage'),
                ),
                migrations.AddField(
                    model_name='requalification',
                    name='checkpoint',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='pipeline.opportunitystage'),
                ),
                migrations.AddField(
                    model_name='requalification',
                    name='lead',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='requalifications', to='leads.lead'),
                ),
                migrations.AddField(
                    model_name='requalification',
                    name='resolved_by',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
                migrations.AddField(
                    model_name='requaltrigger',
                    name='team',
                    field=models.ForeignKey(blank=True, help_text="Leave empty for every team. A team's own trigger of a kind wins over the catch-all.", null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.team'),
                ),
                migrations.AddField(
                    model_name='requalification',
                    name='trigger',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='firings', to='pipeline.requaltrigger'),
                ),
                migrations.AddField(
                    model_name='requaltriggerevent',
                    name='pgh_context',
                    field=models.ForeignKey(db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='pghistory.context'),
                ),
                migrations.AddField(
                    model_name='requaltriggerevent',
                    name='pgh_obj',
                    field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, related_name='history', to='pipeline.requaltrigger'),
                ),
                migrations.AddField(
                    model_name='requaltriggerevent',
                    name='team',
                    field=models.ForeignKey(blank=True, db_constraint=False, help_text="Leave empty for every team. A team's own trigger of a kind wins over the catch-all.", null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='accounts.team'),
                ),
                migrations.AddIndex(
                    model_name='opportunitystagechange',
                    index=models.Index(fields=['lead', '-at'], name='oppstagechange_lead_time'),
                ),
                migrations.AddConstraint(
                    model_name='requaltrigger',
                    constraint=models.UniqueConstraint(condition=models.Q(('active', True)), fields=('kind', 'team'), name='requaltrigger_one_active_per_kind_team', nulls_distinct=False),
                ),
                migrations.AddIndex(
                    model_name='requalification',
                    index=models.Index(fields=['lead', '-created_at'], name='requal_lead_time'),
                ),
                migrations.AddConstraint(
                    model_name='requalification',
                    constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('lead', 'kind'), name='requal_one_open_per_lead_kind'),
                ),
            ],
            database_operations=[],
        ),
        # The moved models' triggers under their new names (reviews 0003 drops the old ones).
        pgtrigger.migrations.AddTrigger(
            model_name='opportunitystage',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "reviews_opportunitystageevent" ("active", "checkpoint", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "position") VALUES (NEW."active", NEW."checkpoint", NEW."id", NEW."name", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."position"); RETURN NULL;', hash='453b707e1617c5e1ef19d05b11f624c0c2e1737c', operation='INSERT', pgid='pgtrigger_insert_insert_5447c', table='reviews_opportunitystage', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='opportunitystage',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "reviews_opportunitystageevent" ("active", "checkpoint", "id", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "position") VALUES (NEW."active", NEW."checkpoint", NEW."id", NEW."name", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."position"); RETURN NULL;', hash='4e3e94ab43b114784c6a75aca84f7531cb09913e', operation='UPDATE', pgid='pgtrigger_update_update_effa8', table='reviews_opportunitystage', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='opportunitystagechange',
            trigger=pgtrigger.compiler.Trigger(name='oppstagechange_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='44d68c1add57d00b1b40fa61fd894aff5df15826', operation='UPDATE', pgid='pgtrigger_oppstagechange_append_only_353b8', table='reviews_opportunitystagechange', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='requaltrigger',
            trigger=pgtrigger.compiler.Trigger(name='insert_insert', sql=pgtrigger.compiler.UpsertTriggerSql(func='INSERT INTO "reviews_requaltriggerevent" ("active", "days", "id", "kind", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "score_threshold", "task_due_days", "team_id") VALUES (NEW."active", NEW."days", NEW."id", NEW."kind", NEW."name", _pgh_attach_context(), NOW(), \'insert\', NEW."id", NEW."score_threshold", NEW."task_due_days", NEW."team_id"); RETURN NULL;', hash='1081404c031f6c9e8b41e567bf68ce5d9fd2a148', operation='INSERT', pgid='pgtrigger_insert_insert_10b13', table='reviews_requaltrigger', when='AFTER')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='requaltrigger',
            trigger=pgtrigger.compiler.Trigger(name='update_update', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (OLD.* IS DISTINCT FROM NEW.*)', func='INSERT INTO "reviews_requaltriggerevent" ("active", "days", "id", "kind", "name", "pgh_context_id", "pgh_created_at", "pgh_label", "pgh_obj_id", "score_threshold", "task_due_days", "team_id") VALUES (NEW."active", NEW."days", NEW."id", NEW."kind", NEW."name", _pgh_attach_context(), NOW(), \'update\', NEW."id", NEW."score_threshold", NEW."task_due_days", NEW."team_id"); RETURN NULL;', hash='83309154e04768f51d7128de75139895aa678643', operation='UPDATE', pgid='pgtrigger_update_update_d6f23', table='reviews_requaltrigger', when='AFTER')),
        ),
        migrations.RunPython(rename_content_types, restore_content_types),
    ]
