"""The default framework becomes the catch-all, tried after every other framework.

Databases migrated with the first version of 0002 have MEDDIC, CHAMP, ANUM and "Four core
answers" active with no teams or segments; under the catch-all rule the first of them would
replace BANT for every lead. Deactivate them where they are still untouched (no teams, no
segments); an admin switches one on for the teams or segments it is meant for.
"""

from django.db import migrations, models

SHIPPED_ALTERNATIVES = ["meddic", "champ", "anum", "four-core-answers"]


def deactivate_untouched_alternatives(apps, schema_editor):
    Framework = apps.get_model("frameworks", "Framework")
    Framework.objects.filter(
        slug__in=SHIPPED_ALTERNATIVES, is_default=False, active=True, segments=[], teams__isnull=True
    ).update(active=False)


class Migration(migrations.Migration):

    dependencies = [
        ('frameworks', '0002_default_frameworks'),
    ]

    operations = [
        migrations.RunPython(deactivate_untouched_alternatives, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='framework',
            name='is_default',
            field=models.BooleanField(default=False, help_text='The catch-all: applies to every lead that no other active framework matches. At most one framework; it names no teams or segments.'),
        ),
        migrations.AlterField(
            model_name='framework',
            name='position',
            field=models.PositiveIntegerField(default=0, help_text='Lower positions are tried first; the first matching framework applies to a lead.'),
        ),
        migrations.AlterField(
            model_name='frameworkevent',
            name='is_default',
            field=models.BooleanField(default=False, help_text='The catch-all: applies to every lead that no other active framework matches. At most one framework; it names no teams or segments.'),
        ),
        migrations.AlterField(
            model_name='frameworkevent',
            name='position',
            field=models.PositiveIntegerField(default=0, help_text='Lower positions are tried first; the first matching framework applies to a lead.'),
        ),
    ]
