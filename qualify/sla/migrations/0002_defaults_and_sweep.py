"""Ship working defaults: a UTC Mon–Fri 9–17 calendar, the three SLA policies with their
escalation ladders, and the every-minute sweep as an admin-editable beat entry."""

import datetime

from django.db import migrations

CALENDAR = "Default (UTC, Mon–Fri 9–17)"

# (name, kind, target business minutes, warn %, on_reassign, [(after_minutes, action), ...])
POLICIES = [
    (
        "MQL first touch within 1 business hour", "mql_first_touch", 60, 75, "keep",
        [(0, "notify"), (60, "reassign"), (240, "return_to_pool")],
    ),
    (
        "Handoff accepted or rejected within 4 business hours", "handoff_decision", 240, 75, "keep",
        [(0, "notify"), (240, "notify_managers")],
    ),
    (
        "Recycled lead touched within 1 business day", "recycled_touch", 480, 75, "keep",
        [(0, "notify"), (240, "reassign"), (480, "return_to_pool")],
    ),
]


def create(apps, schema_editor):
    Calendar = apps.get_model("sla", "BusinessCalendar")
    Hours = apps.get_model("sla", "WorkingHours")
    Policy = apps.get_model("sla", "SlaPolicy")
    Step = apps.get_model("sla", "EscalationStep")
    calendar, created = Calendar.objects.get_or_create(
        name=CALENDAR, defaults={"time_zone": "UTC", "is_default": not Calendar.objects.filter(is_default=True).exists()}
    )
    if created:
        Hours.objects.bulk_create(
            Hours(calendar=calendar, weekday=day, start=datetime.time(9), end=datetime.time(17)) for day in range(5)
        )
    for name, kind, target, warn, on_reassign, ladder in POLICIES:
        if Policy.objects.filter(kind=kind, is_default=True, active=True).exists():
            continue
        policy, created = Policy.objects.get_or_create(
            name=name,
            defaults={"kind": kind, "is_default": True, "target_minutes": target, "warn_at_percent": warn,
                      "on_reassign": on_reassign, "position": 1000},
        )
        if created:
            Step.objects.bulk_create(Step(policy=policy, after_minutes=m, action=a) for m, a in ladder)

    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = Interval.objects.get_or_create(every=1, period="minutes")
    Task.objects.get_or_create(
        name="SLA sweep: warnings, breaches and escalations due now",
        defaults={"task": "sla.sweep", "interval": every_minute, "description": "qualify.sla.tasks.sweep"},
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task="sla.sweep").delete()
    Policy = apps.get_model("sla", "SlaPolicy")
    Policy.objects.filter(name__in=[p[0] for p in POLICIES], clocks__isnull=True).delete()
    apps.get_model("sla", "BusinessCalendar").objects.filter(name=CALENDAR, policies__isnull=True, team_links__isnull=True, clocks__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("sla", "0001_initial"), ("django_celery_beat", "0019_alter_periodictasks_options")]
    operations = [migrations.RunPython(create, remove)]
