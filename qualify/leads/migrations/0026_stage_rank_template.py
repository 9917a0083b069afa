"""The stage-rank indexes' expression, in the model state only: STAGE_RANK is now StageRank, one
template that compiles to the very SQL of the Case of ten Whens leads 0016 built them with
(tests/leads/test_queue_sorts.py compares the two), so the indexes stay as they are."""

import qualify.leads.models
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_api_token'),
        ('leads', '0025_team_owner_statistics'),
        ('scoring', '0012_condition_fields_custom_properties'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name='lead', name='lead_team_stage_rank'),
                migrations.RemoveIndex(model_name='lead', name='lead_owner_stage_rank'),
                migrations.AddIndex(
                    model_name='lead',
                    index=models.Index(models.F('team'), qualify.leads.models.StageRank(), models.F('id'), condition=models.Q(('stage__in', ('new', 'mql', 'working', 'handed_off', 'accepted', 'opportunity'))), name='lead_team_stage_rank'),
                ),
                migrations.AddIndex(
                    model_name='lead',
                    index=models.Index(models.F('owner'), qualify.leads.models.StageRank(), models.F('id'), condition=models.Q(('stage__in', ('new', 'mql', 'working'))), name='lead_owner_stage_rank'),
                ),
            ],
        ),
    ]
