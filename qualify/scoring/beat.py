"""Beat entries that scoring's migrations ship: (name shown in admin, task name) pairs, every minute."""

from __future__ import annotations


def add_every_minute(apps, entries: list[tuple[str, str]]) -> None:
    Interval = apps.get_model("django_celery_beat", "IntervalSchedule")
    Task = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = Interval.objects.get_or_create(every=1, period="minutes")
    for name, task in entries:
        Task.objects.get_or_create(
            name=name, defaults={"task": task, "interval": every_minute, "description": f"qualify.{task.replace('.', '.tasks.', 1)}"}
        )


def remove(apps, entries: list[tuple[str, str]]) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(task__in=[t for _, t in entries]).delete()
