"""Celery tasks: deliver given outbox rows now (kicked after commit), and the beat sweep that
delivers whatever is due (retries, rows whose kick was lost with Redis, expired leases)."""

from __future__ import annotations

from celery import shared_task

from . import delivery


@shared_task(name="webhooks.deliver", ignore_result=True)
def deliver(ids: list[int]) -> int:
    """Deliver these rows if they are still due; rows another worker holds are left to it."""
    total = 0
    for start in range(0, len(ids), 50):
        total += delivery.deliver(ids=ids[start:start + 50])
    return total


@shared_task(name="webhooks.sweep", ignore_result=True)
def sweep() -> int:
    """Every 30 seconds (beat entry 'Deliver due webhooks'): the safety net."""
    return delivery.deliver_due()
