"""Ship the disqualify-reason taxonomy from the product brief; admins edit it afterwards."""

from django.db import migrations

REASONS = [
    # name, action, recycle_days, note_required, min_note_length, dimension, description
    ("No ICP fit", "close", 0, True, 10, "Fit", "The company or person is outside the ideal customer profile."),
    ("No budget", "nurture", 180, True, 10, "Budget", "No budget this cycle; worth revisiting at the next planning round."),
    ("No authority", "back_to_sdr", 0, True, 10, "Authority", "Contact cannot buy or reach the buyer; SDR should multi-thread."),
    ("Bad timing", "nurture", 90, True, 10, "Timeline", "Real need, but no compelling event in the next two quarters."),
    ("Competitor locked in", "nurture", 365, True, 10, "Competition", "Under contract with a competitor; recycle before renewal."),
    ("Compliance blocker", "close", 0, True, 10, "Decision criteria", "Security, legal or regulatory requirement we cannot meet."),
    ("Nurture — recycle later", "nurture", 60, False, 0, "", "Not ready; keep warm with marketing and recycle."),
    ("Duplicate", "close", 0, False, 0, "", "Duplicate of another lead."),
    ("Bad data", "close", 0, False, 0, "", "Contact details are wrong or fake."),
    ("Not enough discovery", "back_to_sdr", 0, True, 10, "Need", "Handed off before the problem and process were confirmed."),
    ("Other", "back_to_sdr", 0, True, 40, "", "Anything else; explain in a note of at least 40 characters."),
]


def create(apps, schema_editor):
    Reason = apps.get_model("leads", "DisqualifyReason")
    for position, (name, action, days, note_req, min_len, dim, desc) in enumerate(REASONS):
        Reason.objects.get_or_create(
            name=name,
            defaults=dict(
                action=action, recycle_days=days or 90, note_required=note_req, min_note_length=min_len,
                dimension=dim, description=desc, position=position * 10,
            ),
        )


class Migration(migrations.Migration):
    dependencies = [("leads", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
