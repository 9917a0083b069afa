"""Celery tasks: keep the reporting tables fresh, run CSV imports."""

from celery import shared_task


@shared_task(name="analytics.refresh_rollups")
def refresh_rollups(full: bool = False) -> dict:
    """Idempotent: recomputes derived rows from the history; a concurrent run returns at once."""
    from .rollups import refresh

    r = refresh(full=full)
    return {"ran": r.ran, "full": r.full, "leads": r.leads, "seconds": r.seconds}


@shared_task(name="analytics.run_import")
def run_import(job_id: int) -> None:
    """Run a pending import job. A job already claimed (running or finished) is left alone."""
    from .importer import run_job

    run_job(job_id)
