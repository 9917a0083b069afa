"""Event client ids are unique per team (the lead's), not across all teams.

Backfills the team of the events that have a client id; the append-only trigger is switched off
for that one UPDATE, inside this migration's transaction."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_membership_capacity'),
        ('leads', '0011_account_domain_per_team'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='event',
            name='event_client_id_unique',
        ),
        migrations.AddField(
            model_name='event',
            name='team',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.team'),
        ),
        migrations.RunSQL(
            """
            ALTER TABLE leads_event DISABLE TRIGGER pgtrigger_event_append_only_4e208;
            UPDATE leads_event e SET team_id = l.team_id FROM leads_lead l
             WHERE l.id = e.lead_id AND e.client_id <> '';
            ALTER TABLE leads_event ENABLE TRIGGER pgtrigger_event_append_only_4e208;
            """,
            migrations.RunSQL.noop,
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.UniqueConstraint(condition=models.Q(('client_id', ''), _negated=True), fields=('team', 'client_id'), name='event_team_client_id_unique'),
        ),
        migrations.AddConstraint(
            model_name='event',
            constraint=models.CheckConstraint(condition=models.Q(('client_id', ''), ('team__isnull', False), _connector='OR'), name='event_client_id_has_team'),
        ),
    ]
