"""A real Celery worker process killed with SIGKILL in the middle of an import's write: the job
wrote nothing, the sweep takes it over, and a second worker completes it."""

import datetime
import signal

import pytest
from django.db import transaction

from qualify.imports import jobs, tasks
from qualify.imports.models import ImportJob, ImportStatus
from qualify.leads.models import Lead
from tests.workers import own_broker, wait_for

ROWS = 6000


def applying(job_id: int) -> bool:
    """The worker's apply transaction holds the job row (see jobs._run)."""
    with transaction.atomic():
        free = ImportJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).values_list("pk", flat=True)
        return ImportJob.objects.get(pk=job_id).status == ImportStatus.RUNNING and not list(free)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_import_wrote_nothing_and_the_job_is_taken_over(north, maria, monkeypatch):
    with own_broker() as broker:
        _kill_and_take_over(broker, north, maria, monkeypatch)


def _kill_and_take_over(broker, north, maria, monkeypatch):
    text = "First Name,Email,Company\n" + "".join(f"Lead{i},lead{i}@x{i % 300}.example,X{i % 300}\n" for i in range(ROWS))
    job = jobs.create_job(kind="leads", team=north, by=maria, content=text.encode(), filename="big.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PENDING, dry_run=False)
    first = broker.worker(name="first")
    broker.send(tasks.run_import, job.pk)
    wait_for(lambda: applying(job.pk), 120, "the apply transaction", [first])
    broker.stop(first, signal.SIGKILL)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.imported_at) == (ImportStatus.RUNNING, 1, None)
    assert not Lead.objects.exists()  # the write was one transaction; it died with the worker

    monkeypatch.setattr(jobs, "STALE_AFTER", datetime.timedelta(seconds=1))
    monkeypatch.setattr(tasks.run_import, "delay", lambda job_id: broker.send(tasks.run_import, job_id))
    # The dead worker's database session may hold the row for a moment; the sweep skips it then.
    wait_for(tasks.take_over_stale_jobs, 30, "the takeover", [first])
    second = broker.worker(name="second")
    wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportStatus.DONE, 120, "the second run", [second])
    job.refresh_from_db()
    assert (job.attempts, job.created["leads"]) == (2, ROWS), job.message
    assert Lead.objects.filter(team=north).count() == ROWS
