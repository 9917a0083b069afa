"""Clicking "run" on an import several times at once, in real transactions: exactly one run, and
the job finishes (finding 6c: the winner's claim skipped the row a losing request had locked for
its "already running" check, and the job stayed pending for good)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from qualify.imports import jobs
from qualify.imports.models import ImportJob, ImportStatus
from qualify.leads.models import Lead
from tests.concurrency import at_once, posts_at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CSV = "".join(["First Name,Email\n"] + [f"P{i},p{i}@five.example\n" for i in range(5)])


@pytest.fixture
def checked(north, maria):
    """A file that passed its dry run, waiting for the real import (as on the job page)."""
    job = jobs.create_job(kind="leads", team=north, by=maria, content=CSV.encode(), filename="five.csv")
    return jobs.start(job, dry_run=True, mode="all_or_nothing")


def test_a_claim_waits_for_a_brief_lock_on_a_pending_job_instead_of_skipping_it(checked):
    ImportJob.objects.filter(pk=checked.pk).update(status=ImportStatus.PENDING, dry_run=False)
    locked, release = threading.Event(), threading.Event()

    def reader():  # what start() does for a losing "run": lock, see it pending, refuse
        try:
            with transaction.atomic():
                ImportJob.objects.select_for_update().defer("content").get(pk=checked.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    def claimer():
        locked.wait(10)
        threading.Timer(0.5, release.set).start()  # the reader lets go while the claim waits
        return jobs.run_job(checked.pk)

    _, job = at_once(reader, claimer)
    assert isinstance(job, ImportJob) and job.status == ImportStatus.DONE, job
    assert Lead.objects.count() == 5


def test_parallel_runs_of_one_import_run_it_once_and_it_finishes(maria, checked):
    answers = posts_at_once(maria, f"/api/imports/{checked.pk}/run/", {"dry_run": False}, 5, content_type="application/json")
    codes = sorted(getattr(a, "status_code", a) for a in answers)
    assert codes == [202] + [400] * 4, answers
    refused = {a.json()["non_field_errors"][0] for a in answers if a.status_code == 400}
    assert refused <= {"This import is already running.", "This file was already imported; upload it again to import it twice."}
    job = ImportJob.objects.get(pk=checked.pk)
    assert (job.status, job.attempts, job.created.get("leads")) == (ImportStatus.DONE, 2, 5), job.message
    assert Lead.objects.count() == 5
