"""Extended statistics: a lead's owner decides its team, which the planner does not know by itself.

Without them it multiplies the two selectivities, and estimated one rep's open leads in a team at
7,559 where there are 14,050 (bench queue, 1M leads); the queue's total trusts that estimate for
the rep filter (queue.ESTIMATED_FILTERS). Computed by ANALYZE; nothing is written per lead.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("leads", "0024_owner_sort_indexes")]

    operations = [
        migrations.RunSQL(
            "CREATE STATISTICS IF NOT EXISTS lead_team_owner (dependencies) ON team_id, owner_id FROM leads_lead",
            "DROP STATISTICS IF EXISTS lead_team_owner",
        ),
    ]
