"""Ship the red-flag checklist, opportunity sub-stages, default re-qualification triggers, and the
two beat entries (build review queues, run re-qualification triggers). Admins edit all of them."""

from django.db import migrations

RED_FLAGS = [
    ("No concrete problem", "The prospect cannot describe current workflow pain in specifics."),
    ("No decision process", "Nobody has said how the decision gets made, by whom, and by when."),
    ("No sponsor", "No named person who can push spend; 'waiting on internal alignment'."),
    ("No dated next step", "The next step has no date, or every meeting stays 'introductory'."),
    ("No budget conversation", "Pricing never landed on numbers tied to value."),
    ("Evidence missing", "Framework answers are claimed (confirmed/partial) without evidence notes."),
]

OPPORTUNITY_STAGES = [
    # name, checkpoint
    ("Discovery", False),
    ("Demo done", True),
    ("Pricing / proposal", True),
    ("Security / legal review", True),
    ("Negotiation", False),
]

TRIGGERS = [
    ("MQL gone cold → Nurture", "mql_decay", 30),
    ("Quiet opportunity → re-qualify", "opportunity_inactive", 21),
    ("Checkpoint sub-stage → re-confirm answers", "checkpoint_stage", 1),
]


def create(apps, schema_editor):
    RedFlag = apps.get_model("reviews", "RedFlag")
    for position, (name, description) in enumerate(RED_FLAGS):
        RedFlag.objects.get_or_create(name=name, defaults={"description": description, "position": position})
    Stage = apps.get_model("reviews", "OpportunityStage")
    for position, (name, checkpoint) in enumerate(OPPORTUNITY_STAGES):
        Stage.objects.get_or_create(name=name, defaults={"position": position, "checkpoint": checkpoint})
    Trigger = apps.get_model("reviews", "RequalTrigger")
    for name, kind, days in TRIGGERS:
        if not Trigger.objects.filter(kind=kind, team=None).exists():
            Trigger.objects.create(name=name, kind=kind, days=days)

    Crontab = apps.get_model("django_celery_beat", "CrontabSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    morning, _ = Crontab.objects.get_or_create(minute="0", hour="6", day_of_week="*", day_of_month="*", month_of_year="*")
    Task.objects.get_or_create(
        name="Build review queues due this period",
        defaults={"task": "reviews.build_review_queues", "crontab": morning,
                  "description": "qualify.reviews.tasks.build_review_queues: one queue per active plan and period."},
    )
    night, _ = Crontab.objects.get_or_create(minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*")
    Task.objects.get_or_create(
        name="Run re-qualification triggers",
        defaults={"task": "reviews.run_requalification", "crontab": night,
                  "description": "qualify.reviews.tasks.run_requalification: MQL decay and quiet opportunities."},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task__in=["reviews.build_review_queues", "reviews.run_requalification"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
