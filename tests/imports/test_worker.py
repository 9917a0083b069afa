"""A real Celery worker process killed with SIGKILL in the middle of an import's write: the job
wrote nothing, the sweep takes it over, and a second worker completes it."""

import datetime
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection, transaction

from qualify.celery import app
from qualify.imports import jobs, tasks
from qualify.imports.models import ImportJob, ImportStatus
from qualify.leads.models import Lead
from tests.scoring.test_worker import REDIS, ROOT, _database_url, _redis_up

ROWS = 6000


def start_worker() -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "CELERY_BROKER_URL": REDIS,
           "DJANGO_SETTINGS_MODULE": "qualify.settings"}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "qualify", "worker", "-Q", "io", "--pool", "solo", "--loglevel", "WARNING",
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )


@pytest.fixture
def workers():
    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS}")
    import redis

    redis.Redis.from_url(REDIS).flushdb()
    started: list[subprocess.Popen] = []
    yield lambda: started.append(start_worker()) or started[-1]
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def send(job_id: int) -> None:
    with app.connection_for_write(REDIS) as conn:
        tasks.run_import.apply_async(args=[job_id], connection=conn)


def wait_for(what: str, check, proc, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    proc.terminate()
    pytest.fail(f"{what} did not happen in {seconds} s:\n" + proc.stdout.read().decode()[-3000:])


def applying(job_id: int) -> bool:
    """The worker's apply transaction holds the job row (see jobs._run)."""
    with transaction.atomic():
        free = ImportJob.objects.select_for_update(skip_locked=True).filter(pk=job_id).values_list("pk", flat=True)
        return ImportJob.objects.get(pk=job_id).status == ImportStatus.RUNNING and not list(free)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_worker_killed_mid_import_wrote_nothing_and_the_job_is_taken_over(north, maria, workers, monkeypatch):
    text = "First Name,Email,Company\n" + "".join(f"Lead{i},lead{i}@x{i % 300}.example,X{i % 300}\n" for i in range(ROWS))
    job = jobs.create_job(kind="leads", team=north, by=maria, content=text.encode(), filename="big.csv")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.PENDING, dry_run=False)
    first = workers()
    send(job.pk)
    wait_for("the apply transaction", lambda: applying(job.pk), first)
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.imported_at) == (ImportStatus.RUNNING, 1, None)
    assert not Lead.objects.exists()  # the write was one transaction; it died with the worker

    monkeypatch.setattr(jobs, "STALE_AFTER", datetime.timedelta(seconds=1))
    monkeypatch.setattr(tasks.run_import, "delay", send)
    # The dead worker's database session may hold the row for a moment; the sweep skips it then.
    wait_for("the takeover", tasks.take_over_stale_jobs, first, seconds=30)
    second = workers()
    wait_for("the second run", lambda: ImportJob.objects.get(pk=job.pk).status == ImportStatus.DONE, second)
    job.refresh_from_db()
    assert (job.attempts, job.created["leads"]) == (2, ROWS), job.message
    assert Lead.objects.filter(team=north).count() == ROWS
