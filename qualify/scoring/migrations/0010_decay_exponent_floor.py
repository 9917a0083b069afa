"""scoring_engagement() stops its decay exponent at -1000 (decay.FUNCTIONS_SQL): PostgreSQL raised
'value out of range: underflow' for a short half-life and an old engagement."""

from django.db import migrations

from qualify.scoring.decay import FUNCTIONS_SQL


class Migration(migrations.Migration):
    dependencies = [("scoring", "0009_alter_rule_event_type")]
    operations = [migrations.RunSQL(FUNCTIONS_SQL, migrations.RunSQL.noop)]
