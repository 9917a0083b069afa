"""Celery tasks of CSV import."""

from celery import shared_task

from . import jobs


# The registered name predates the imports app (the task lived in qualify.analytics.tasks);
# it is kept so messages already queued under it still find the task, and so the `io` route
# in CELERY_TASK_ROUTES still applies.
@shared_task(name="analytics.run_import")
def run_import(job_id: int) -> None:
    """Run a pending import job. A job already claimed (running or finished) is left alone."""
    jobs.run_job(job_id)


@shared_task(name="imports.take_over_stale_jobs")
def take_over_stale_jobs() -> int:
    """Beat, every minute: running imports whose worker stopped go back to pending and are queued."""
    return jobs.take_over_stale_jobs()
