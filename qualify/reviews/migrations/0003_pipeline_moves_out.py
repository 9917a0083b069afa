"""Sub-stages and re-qualification leave reviews for pipeline (issue 11): see pipeline 0001.

The models leave reviews' state only; their tables and rows stay (pipeline's models name them in
Meta.db_table), and FollowUpTask's link to a re-qualification now points at pipeline's model (the
same table, so the same foreign key in the database). The triggers pgtrigger installed under
reviews' names (and their functions) are dropped first: pipeline 0001 installed the same triggers
under pipeline's.
"""

import django.db.models.deletion
import pgtrigger.migrations
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pipeline', '0001_initial'),
        ('reviews', '0002_defaults_and_beat'),
    ]

    operations = [
        pgtrigger.migrations.RemoveTrigger(model_name='opportunitystage', name='insert_insert'),
        pgtrigger.migrations.RemoveTrigger(model_name='opportunitystage', name='update_update'),
        pgtrigger.migrations.RemoveTrigger(model_name='opportunitystagechange', name='oppstagechange_append_only'),
        pgtrigger.migrations.RemoveTrigger(model_name='requaltrigger', name='insert_insert'),
        pgtrigger.migrations.RemoveTrigger(model_name='requaltrigger', name='update_update'),
        # DROP TRIGGER leaves the trigger's function behind; these five were reviews' only, and
        # going back, RemoveTrigger's reverse creates them again.
        migrations.RunSQL(
            "DROP FUNCTION IF EXISTS pgtrigger_insert_insert_24c21(); "
            "DROP FUNCTION IF EXISTS pgtrigger_update_update_1e8e4(); "
            "DROP FUNCTION IF EXISTS pgtrigger_oppstagechange_append_only_7adfe(); "
            "DROP FUNCTION IF EXISTS pgtrigger_insert_insert_aed5a(); "
            "DROP FUNCTION IF EXISTS pgtrigger_update_update_60bdb();",
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='opportunitystagechange',
                    name='to_stage',
                ),
                migrations.RemoveField(
                    model_name='requalification',
                    name='checkpoint',
                ),
                migrations.RemoveField(
                    model_name='opportunitystageevent',
                    name='pgh_obj',
                ),
                migrations.RemoveField(
                    model_name='opportunitystagechange',
                    name='from_stage',
                ),
                migrations.RemoveField(
                    model_name='opportunitystagechange',
                    name='by',
                ),
                migrations.RemoveField(
                    model_name='opportunitystagechange',
                    name='lead',
                ),
                migrations.RemoveField(
                    model_name='opportunitystageevent',
                    name='pgh_context',
                ),
                migrations.RemoveField(
                    model_name='requalification',
                    name='lead',
                ),
                migrations.RemoveField(
                    model_name='requalification',
                    name='resolved_by',
                ),
                migrations.RemoveField(
                    model_name='requalification',
                    name='trigger',
                ),
                migrations.AlterField(
                    model_name='followuptaskevent',
                    name='requalification',
                    field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', related_query_name='+', to='pipeline.requalification'),
                ),
                migrations.AlterField(
                    model_name='followuptask',
                    name='requalification',
                    field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='task', to='pipeline.requalification'),
                ),
                migrations.RemoveField(
                    model_name='requaltrigger',
                    name='team',
                ),
                migrations.RemoveField(
                    model_name='requaltriggerevent',
                    name='pgh_obj',
                ),
                migrations.RemoveField(
                    model_name='requaltriggerevent',
                    name='pgh_context',
                ),
                migrations.RemoveField(
                    model_name='requaltriggerevent',
                    name='team',
                ),
                migrations.DeleteModel(
                    name='LeadOpportunityStage',
                ),
                migrations.DeleteModel(
                    name='OpportunityStage',
                ),
                migrations.DeleteModel(
                    name='OpportunityStageChange',
                ),
                migrations.DeleteModel(
                    name='OpportunityStageEvent',
                ),
                migrations.DeleteModel(
                    name='Requalification',
                ),
                migrations.DeleteModel(
                    name='RequalTrigger',
                ),
                migrations.DeleteModel(
                    name='RequalTriggerEvent',
                ),
            ],
            database_operations=[],
        ),
    ]
