"""Jobs whose worker died (kill -9) are taken over; jobs with a live worker are not."""

import datetime

import pytest
from django.utils import timezone

from qualify.errors import DomainError
from qualify.imports import jobs, tasks
from qualify.imports.models import ImportJob, ImportStatus
from qualify.leads.models import Lead

CSV = "First Name,Email\nAda,ada@x.example\nBo,bo@x.example\n"


def running(job, *, silent_for, attempts=1):
    """What a worker leaves behind when it dies `silent_for` after its last heartbeat."""
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.RUNNING, dry_run=False, attempts=attempts, started_at=now - silent_for, heartbeat_at=now - silent_for
    )
    job.refresh_from_db()
    return job


@pytest.fixture
def job(north, maria):
    return jobs.create_job(kind="leads", team=north, by=maria, content=CSV.encode(), filename="l.csv")


@pytest.fixture
def queued(monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.run_import, "delay", lambda job_id: sent.append(job_id))
    return sent


def test_the_sweep_takes_over_a_job_whose_worker_went_silent_and_it_completes(job, queued, django_capture_on_commit_callbacks):
    running(job, silent_for=datetime.timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.take_over_stale_jobs() == 1
    job.refresh_from_db()
    assert queued == [job.pk] and job.status == ImportStatus.PENDING
    tasks.run_import(job.pk)  # what the worker does with the queued message
    job.refresh_from_db()
    assert (job.status, job.attempts, job.created["leads"]) == (ImportStatus.DONE, 2, 2), job.message
    assert Lead.objects.count() == 2


def test_a_job_with_a_fresh_heartbeat_is_not_touched(job, queued, django_capture_on_commit_callbacks):
    running(job, silent_for=datetime.timedelta(seconds=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.take_over_stale_jobs() == 0
    assert jobs.run_job(job.pk) is None  # a redelivered message leaves it to its worker
    job.refresh_from_db()
    assert (job.status, job.attempts, queued) == (ImportStatus.RUNNING, 1, [])
    with pytest.raises(DomainError, match="already running"):
        jobs.start(job, dry_run=False, mode="all_or_nothing")
    assert not Lead.objects.exists()


def test_the_run_path_takes_over_a_stale_job_too(job):
    running(job, silent_for=datetime.timedelta(minutes=6))
    assert jobs.run_job(job.pk).status == ImportStatus.DONE  # e.g. the dead worker's message, redelivered
    assert Lead.objects.count() == 2


def test_starting_a_stale_job_again_from_the_page_runs_it(job):
    running(job, silent_for=datetime.timedelta(minutes=6))
    job = jobs.start(job, dry_run=False, mode="all_or_nothing")
    assert job.status == ImportStatus.DONE and Lead.objects.count() == 2


def test_a_job_that_keeps_stopping_its_worker_fails_after_its_attempts(job, queued, django_capture_on_commit_callbacks):
    running(job, silent_for=datetime.timedelta(minutes=6), attempts=jobs.MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.take_over_stale_jobs() == 0
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and "stopped 3 times; nothing was imported" in job.message and queued == []


def test_a_worker_whose_job_was_taken_over_writes_nothing(job):
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PENDING, dry_run=False)
    attempt = jobs._claim(job.pk)
    ImportJob.objects.filter(pk=job.pk).update(attempts=attempt + 1)  # another worker took it over meanwhile
    mine = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING, attempts=attempt)
    with pytest.raises(jobs.LostClaim):
        jobs._run(ImportJob.objects.get(pk=job.pk), mine)
    assert not Lead.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportStatus.RUNNING and job.imported_at is None


def test_the_heartbeat_is_written_with_progress_at_most_every_few_seconds(job, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(jobs.time, "monotonic", lambda: clock[0])
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, attempts=1, heartbeat_at=None)
    beat = jobs._Heartbeat(ImportJob.objects.filter(pk=job.pk, attempts=1))
    beat(500)
    assert ImportJob.objects.get(pk=job.pk).heartbeat_at is None  # too soon after the claim's heartbeat
    clock[0] += jobs.HEARTBEAT_SECONDS
    beat(1000)
    job.refresh_from_db()
    assert job.processed_rows == 1000 and job.heartbeat_at is not None
    ImportJob.objects.filter(pk=job.pk).update(attempts=2)
    clock[0] += jobs.HEARTBEAT_SECONDS
    with pytest.raises(jobs.LostClaim):
        beat(1500)


def test_the_sweep_is_a_beat_entry_on_the_io_queue(db):
    from django_celery_beat.models import PeriodicTask

    from qualify.celery import app

    entry = PeriodicTask.objects.get(task="imports.take_over_stale_jobs")
    assert entry.enabled and (entry.interval.every, entry.interval.period) == (1, "minutes")
    assert app.amqp.router.route({}, "imports.take_over_stale_jobs", (), {})["queue"].name == "io"


def test_a_job_claimed_before_heartbeats_existed_counts_its_start(job, queued, django_capture_on_commit_callbacks):
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, dry_run=False, attempts=1, heartbeat_at=None,
                                               started_at=timezone.now() - datetime.timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.take_over_stale_jobs() == 1
    assert queued == [job.pk]


def pending(job, *, for_):
    """What a lost broker message leaves behind: a job queued `for_` ago that no worker ever claimed."""
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PENDING, dry_run=False,
                                               pending_since=timezone.now() - for_)
    job.refresh_from_db()
    return job


def test_a_pending_job_whose_message_was_lost_is_queued_again_by_the_sweep(job, queued, django_capture_on_commit_callbacks):
    pending(job, for_=jobs.PENDING_STALE_AFTER + datetime.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.take_over_stale_jobs() == 1
    assert queued == [job.pk]
    tasks.run_import(job.pk)  # what the worker does with the new message
    job.refresh_from_db()
    assert (job.status, job.attempts, job.created["leads"]) == (ImportStatus.DONE, 1, 2), job.message
    assert Lead.objects.count() == 2


def test_a_freshly_pending_job_is_not_taken_over(job, queued, django_capture_on_commit_callbacks):
    pending(job, for_=jobs.PENDING_STALE_AFTER - datetime.timedelta(seconds=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.take_over_stale_jobs() == 0
    assert queued == []
    with pytest.raises(DomainError, match="already running"):
        jobs.start(job, dry_run=False, mode="all_or_nothing")
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ImportStatus.PENDING, 0) and not Lead.objects.exists()


def test_two_sweeps_queue_a_lost_job_once_and_two_deliveries_run_it_once(job, queued, django_capture_on_commit_callbacks):
    pending(job, for_=jobs.PENDING_STALE_AFTER * 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.take_over_stale_jobs() == 1
        # The first sweep restarted its clock: a second (another beat, a retried task) finds nothing lost.
        assert tasks.take_over_stale_jobs() == 0
    assert queued == [job.pk]
    assert jobs.run_job(job.pk).status == ImportStatus.DONE
    assert jobs.run_job(job.pk) is None  # the lost message, delivered after all
    job.refresh_from_db()
    assert job.attempts == 1 and Lead.objects.count() == 2


def test_the_sweep_takes_a_lost_job_over_with_a_conditional_update(job, queued, django_capture_on_commit_callbacks):
    """Between the sweep's read and its update another taker (the page's "run") requeued the job:
    the update finds it no longer lost, so it is not queued a second time."""
    pending(job, for_=jobs.PENDING_STALE_AFTER * 2)
    assert jobs._requeue_lost(job.pk, timezone.now()) is True
    assert jobs._requeue_lost(job.pk, timezone.now()) is False
    job.refresh_from_db()
    assert job.pending_since > timezone.now() - datetime.timedelta(seconds=5)


def test_starting_a_lost_pending_job_again_from_the_page_runs_it(job):
    pending(job, for_=jobs.PENDING_STALE_AFTER + datetime.timedelta(seconds=1))
    job = jobs.start(job, dry_run=False, mode="all_or_nothing")
    assert job.status == ImportStatus.DONE and Lead.objects.count() == 2


def test_starting_a_job_records_when_it_was_queued(job, monkeypatch):
    monkeypatch.setattr(jobs, "INLINE_MAX_ROWS", 0)  # queued for a worker, not run in the request
    monkeypatch.setattr(tasks.run_import, "delay", lambda job_id: None)
    before = timezone.now()
    job = jobs.start(job, dry_run=True, mode="all_or_nothing")
    assert job.status == ImportStatus.PENDING and job.pending_since >= before


def test_a_job_left_pending_before_pending_since_existed_counts_its_upload(job, queued, django_capture_on_commit_callbacks):
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PENDING, pending_since=None,
                                               created_at=timezone.now() - jobs.PENDING_STALE_AFTER * 2)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.take_over_stale_jobs() == 1
    assert queued == [job.pk]


def test_starting_a_job_with_the_broker_down_leaves_it_pending_for_the_sweep(job, monkeypatch, django_capture_on_commit_callbacks):
    from kombu.exceptions import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(jobs, "INLINE_MAX_ROWS", 0)  # queued for a worker, not run in the request
    monkeypatch.setattr(tasks.run_import, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        job = jobs.start(job, dry_run=False, mode="all_or_nothing")
    assert job.status == ImportStatus.PENDING and Lead.objects.count() == 0
