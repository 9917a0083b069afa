"""The shipped default model's caps add up to its total cap, published as a new version.

Version 1 capped fit at 50 and engagement at 40 under a total cap of 100, so no lead could score
above 90 and every lead that saturated both caps tied there (82 of the demo's leads, a flat first
page of the queue). Engagement is now capped at 50: fit + engagement = 100 = the total cap, and
still below the MQL threshold of 60, so behaviour alone cannot make an MQL (the demo request stays
a hard trigger). Only a default model whose caps are still the shipped ones is changed; an admin's
own caps are left alone. Versions are frozen, so this publishes version N+1; stored scores keep the
version that produced them until the next recompute (`python manage.py recompute_scores`, or
publish from admin), which a fresh database (make run, the demo seed) does not need.
"""

from django.db import migrations

SHIPPED = {"fit_cap": 50, "engagement_cap": 40, "total_cap": 100}
NEW_ENGAGEMENT_CAP = 50


def caps_add_up(apps, schema_editor):
    ScoringModel = apps.get_model("scoring", "ScoringModel")
    ModelVersion = apps.get_model("scoring", "ModelVersion")
    model = ScoringModel.objects.filter(is_default=True, name="Default", **SHIPPED).first()
    if model is None or model.current_version_id is None:
        return
    current = ModelVersion.objects.get(pk=model.current_version_id)
    if any(current.spec.get(k) != v for k, v in SHIPPED.items()):
        return
    number = (ModelVersion.objects.filter(model=model).order_by("-number").values_list("number", flat=True).first()) + 1
    spec = {**current.spec, "number": number, "engagement_cap": NEW_ENGAGEMENT_CAP}
    version = ModelVersion.objects.create(
        model=model, number=number, spec=spec,
        note="Caps add up to the total cap: engagement 40 → 50 (fit 50 + engagement 50 = 100)",
    )
    model.engagement_cap = NEW_ENGAGEMENT_CAP
    model.current_version = version
    model.save(update_fields=["engagement_cap", "current_version"])


class Migration(migrations.Migration):

    dependencies = [
        ("scoring", "0010_decay_exponent_floor"),
    ]

    operations = [
        migrations.RunPython(caps_add_up, migrations.RunPython.noop),
    ]
