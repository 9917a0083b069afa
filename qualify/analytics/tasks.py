"""Celery tasks: keep the reporting tables fresh."""

from celery import shared_task


@shared_task(name="analytics.refresh_rollups")
def refresh_rollups(full: bool = False) -> dict:
    """Idempotent: recomputes derived rows from the history; a concurrent run returns at once."""
    from .rollups import refresh

    r = refresh(full=full)
    return {"ran": r.ran, "full": r.full, "leads": r.leads, "seconds": r.seconds}

