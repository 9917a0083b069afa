"""Celery tasks for account figures: idempotent, safe to redeliver."""

from __future__ import annotations

import pghistory
from celery import shared_task


@shared_task(name="abm.refresh_engaged")
def refresh_engaged() -> int:
    """Beat, every 15 minutes: stored account figures follow decay (the pages are always live)."""
    from .refresh import refresh_engaged as run

    with pghistory.context(source="task:abm.refresh_engaged"):
        return run()


@shared_task(name="abm.refresh_pending")
def refresh_pending() -> int:
    """Beat, every minute: refresh the accounts scoring marked since the last run."""
    from .refresh import refresh_pending as run

    with pghistory.context(source="task:abm.refresh_pending"):
        return run()
