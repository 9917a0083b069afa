"""Import jobs: upload (create_job), queue a run (start), and the run itself (run_job).

Every run validates every row first (a dry run stops there and reports). A real run then
either writes all good rows in one transaction, or, in "all or nothing" mode with any bad row,
writes nothing. Small files run inline in the request; larger ones on the `io` Celery queue.

Workers die (kill -9, OOM, a lost machine). A running job writes `heartbeat_at` with its
progress, at most every HEARTBEAT_SECONDS; one silent for STALE_AFTER is taken over by the beat
sweep (take_over_stale_jobs) or by the next run_job for it. That is safe because a dead
worker's job wrote nothing: the writes happen in one transaction that also marks the job done.
Each claim increments `attempts`, and a worker writes only while the job is still running its
attempt; the apply transaction locks the job row first and checks that, so a worker that was
only slow, and lost its job, stops before writing. The sweep and a take-over skip running rows so
locked (SKIP LOCKED): a job whose apply transaction is open has a live worker. A pending job is
never skipped: only brief checks lock it, so a claim waits for them. After MAX_ATTEMPTS the job
fails.

A job can also stay pending with no worker at all: its broker message was lost (a broker restart
without persistence, a purge). One pending for PENDING_STALE_AFTER (since `pending_since`) is
queued again by the same sweep, or started again from its page. That is safe too: the sweep
restarts the job's clock with a conditional UPDATE (two sweeps queue it once), and a run starts
only through _claim's pending → running under the row lock, so of two messages for one job
(the lost one may turn up after all) the second finds it claimed and returns.
"""

from __future__ import annotations

import datetime
import logging
import time
from typing import Any

import pghistory
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from qualify import queueing
from qualify.errors import DomainError
from qualify.notifications import delivery
from qualify.notifications.models import NotificationKind

from . import tasks
from .apply import APPLY, create_properties
from .columns import KIND_FIELDS, propose_mapping
from .mapping import (
    check_new_properties, check_value_maps, generated_id, needs_generated_ids, property_key, resolve_properties,
)
from .models import ImportJob, ImportKind, ImportMode, ImportStatus
from .parsing import Bad, RowReader, cell_values, read_csv
from .validation import Context, Good, RowError, validate

log = logging.getLogger(__name__)

MAX_ERRORS_STORED = 1000
PROGRESS_EVERY = 500
INLINE_MAX_ROWS = 2000
MAX_BYTES = 50 * 1024 * 1024
HEARTBEAT_SECONDS = 3
STALE_AFTER = datetime.timedelta(minutes=5)
# Longer than any wait for a free `io` worker seen so far; a job queued again early costs one
# message that finds it claimed.
PENDING_STALE_AFTER = datetime.timedelta(minutes=10)
MAX_ATTEMPTS = 3


class LostClaim(Exception):
    """The job was taken over while this worker was validating it: it must not write."""


def _check_mapping(kind: str, mapping: dict[str, str], new_properties: dict, value_maps: Any) -> tuple[dict, dict]:
    """Fields of the kind or `prop:<key>` (existing or defined in new_properties), each used
    once; returns the cleaned new properties and value maps. DomainError otherwise."""
    if not isinstance(mapping, dict) or not all(isinstance(f, str) for f in mapping.values()):
        raise DomainError("The mapping is an object of column: field.", field="mapping")
    bad_fields = [f for f in mapping.values() if f and f not in KIND_FIELDS[kind] and property_key(f) is None]
    if bad_fields:
        raise DomainError(f"Not fields of a {kind} import: {', '.join(f[:50] for f in bad_fields[:10])}.", field="mapping")
    chosen = [f for f in mapping.values() if f]
    if len(chosen) != len(set(chosen)):
        raise DomainError("Two columns are mapped to the same field.", field="mapping")
    if kind == ImportKind.OUTCOMES and (new_properties or any(property_key(f) for f in chosen)):
        raise DomainError("An outcomes import does not set properties: import them with the leads.", field="mapping")
    new = check_new_properties(kind, new_properties)
    resolve_properties(kind, mapping, new)
    return new, check_value_maps(value_maps)


def _check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise DomainError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.", field="file")


def read_upload(upload) -> bytes:
    """An uploaded file's bytes, refused (DomainError) by its size before any is read: Django
    has spooled it to disk, and reading a file of gigabytes into memory to measure it would
    stop the web process."""
    _check_size(upload.size)
    return upload.read()


def create_job(*, kind: str, team, by: User, content: bytes, filename: str = "", mapping: dict[str, str] | None = None,
               defaults: dict[str, str] | None = None, new_properties: dict | None = None,
               value_maps: dict | None = None) -> ImportJob:
    """Store an upload and propose a mapping. Refuses (DomainError) files it cannot read, and
    mappings that name unknown fields or properties, bad property definitions or value maps."""
    if kind not in ImportKind.values:
        raise DomainError("Choose what the file contains: leads, accounts or outcomes.", field="kind")
    _check_size(len(content))
    csv_file = read_csv(content)
    header = csv_file.header
    if len(set(header)) != len(header):
        raise DomainError("Two columns have the same name; rename one.", field="file")
    new, maps = {}, {}
    if mapping is not None:
        unknown = [c for c in mapping if c not in header]
        if unknown:
            raise DomainError(f"Mapped columns not in the file: {', '.join(c[:50] for c in unknown[:10])}.", field="mapping")
        new, maps = _check_mapping(kind, mapping, new_properties or {}, value_maps)
    elif new_properties or value_maps:
        new, maps = _check_mapping(kind, propose_mapping(header, kind), new_properties or {}, value_maps)
    return ImportJob.objects.create(
        kind=kind, team=team, created_by=by, filename=filename[:255], content=content, header=header,
        mapping=mapping if mapping is not None else propose_mapping(header, kind), total_rows=len(csv_file.rows),
        defaults=check_defaults(kind, defaults), new_properties=new, value_maps=maps,
    )


def check_defaults(kind: str, defaults: Any) -> dict[str, str]:
    """Values for empty cells: fields of the kind, as short text."""
    if not defaults:
        return {}
    if not isinstance(defaults, dict):
        raise DomainError("Defaults are an object of field: value.", field="defaults")
    defaults = {k: v for k, v in defaults.items() if v not in ("", None)}
    bad = [str(k)[:50] for k, v in defaults.items() if k not in KIND_FIELDS[kind] or not isinstance(v, str) or len(v) > 200]
    if bad:
        raise DomainError(f"Defaults must be fields of a {kind} import with text values of at most 200 characters: "
                          f"{', '.join(bad[:10])}.", field="defaults")
    return {k: v for k, v in defaults.items() if v}


def start(job: ImportJob, *, dry_run: bool, mode: str, mapping: dict[str, str] | None = None,
          new_properties: dict | None = None, value_maps: dict | None = None, defaults: dict | None = None) -> ImportJob:
    """Queue a run of `job` (inline when small). A job that already imported cannot run again.
    A mapping given replaces the job's, with its new properties and value maps."""
    if mode not in ImportMode.values:
        raise DomainError("Choose all-or-nothing or skip bad rows.", field="mode")
    if mapping is not None:
        unknown = [c for c in mapping if c not in job.header]
        if unknown:
            raise DomainError(f"Mapped columns not in the file: {', '.join(c[:50] for c in unknown[:10])}.", field="mapping")
        new, maps = _check_mapping(job.kind, mapping, new_properties or {}, value_maps)
    clean_defaults = check_defaults(job.kind, defaults) if defaults is not None else None
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().defer("content").get(pk=job.pk)
        now = timezone.now()
        stale = (current.status == ImportStatus.RUNNING and _is_stale(current, now)
                 or current.status == ImportStatus.PENDING and _is_lost(current, now))
        if current.status in (ImportStatus.PENDING, ImportStatus.RUNNING) and not stale:
            raise DomainError("This import is already running.")
        if current.imported_at is not None:
            raise DomainError("This file was already imported; upload it again to import it twice.")
        current.dry_run, current.mode, current.status, current.pending_since = dry_run, mode, ImportStatus.PENDING, now
        if mapping is not None:
            current.mapping = {c: f for c, f in mapping.items() if f}
            current.new_properties, current.value_maps = new, maps
        if clean_defaults is not None:
            current.defaults = clean_defaults
        current.save(update_fields=["dry_run", "mode", "status", "pending_since", "mapping", "new_properties", "value_maps",
                                    "defaults"])
    if current.total_rows <= INLINE_MAX_ROWS:
        run_job(current.pk)
    else:
        transaction.on_commit(lambda: _send(current.pk))
    current.refresh_from_db()
    return current


def _is_stale(job: ImportJob, now: datetime.datetime) -> bool:
    last = job.heartbeat_at or job.started_at
    return last is None or last < now - STALE_AFTER


def _stale(now: datetime.datetime) -> Q:
    """Running and silent. No heartbeat at all: claimed by a worker of the release before
    heartbeats (during a rolling deploy); its start counts."""
    cutoff = now - STALE_AFTER
    return Q(status=ImportStatus.RUNNING) & (Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff))


def _is_lost(job: ImportJob, now: datetime.datetime) -> bool:
    return (job.pending_since or job.created_at) < now - PENDING_STALE_AFTER


def _lost(now: datetime.datetime) -> Q:
    """Pending and never claimed for PENDING_STALE_AFTER: its message was lost. No pending_since:
    queued before the field existed (or by a worker of the release before it); its upload counts."""
    cutoff = now - PENDING_STALE_AFTER
    return Q(status=ImportStatus.PENDING) & (Q(pending_since__lt=cutoff) | Q(pending_since__isnull=True, created_at__lt=cutoff))


def _requeue_lost(job_id: int, now: datetime.datetime) -> bool:
    """Restart a lost job's pending clock; True when this call did it and so should queue it. The
    conditional UPDATE is the claim: of two takers (two sweeps, a sweep and a retried task) the
    second finds the job no longer lost and queues nothing."""
    return ImportJob.objects.filter(_lost(now), pk=job_id).update(pending_since=now) == 1


def _give_up(job: ImportJob, now: datetime.datetime) -> bool:
    """Fail a stale job that has used its attempts (a file that kills its worker every time)."""
    if job.attempts < MAX_ATTEMPTS:
        return False
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, finished_at=now,
        message=f"Failed: the worker running this import stopped {job.attempts} times; nothing was imported.",
    )
    return True


def _claim(job_id: int) -> int | None:
    """Claim a pending job, or a running one whose worker went silent; the attempt number, or
    None when another worker has it, it finished, or its apply transaction is open right now."""
    now = timezone.now()
    row = ImportJob.objects.defer("content").filter(pk=job_id)
    with transaction.atomic():
        # A pending row is only ever locked for a moment (start() checking it for a parallel
        # "run", another claim, the sweep), so wait for it: skipping it left the job pending with
        # nobody to run it. After the wait PostgreSQL re-reads the row, so if another worker
        # claimed it meanwhile it is no longer pending and this finds nothing. A stale running
        # row is skipped when locked: its apply transaction is open, so its worker is alive.
        job = (row.select_for_update().filter(status=ImportStatus.PENDING).first()
               or row.select_for_update(skip_locked=True).filter(_stale(now)).first())
        if job is None or (job.status == ImportStatus.RUNNING and _give_up(job, now)):
            return None
        attempt = job.attempts + 1
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=attempt, processed_rows=0, good_rows=0,
            bad_rows=0, errors=[], warnings=[], created={}, message="",
        )
    return attempt


def _send(job_id: int) -> None:
    """A pending job whose message the broker did not take is queued again by the sweep below
    after PENDING_STALE_AFTER; the page shows it pending meanwhile."""
    queueing.send(tasks.run_import, job_id, fallback="the stale-import sweep queues it again")


def take_over_stale_jobs() -> int:
    """Put running jobs whose worker went silent back to pending and queue them again (or fail
    them after MAX_ATTEMPTS), and queue again pending jobs whose message was lost; how many were
    queued. Two indexed queries, a few rows, and one UPDATE per lost job."""
    now = timezone.now()
    with transaction.atomic():
        stale = list(ImportJob.objects.select_for_update(skip_locked=True).defer("content").filter(_stale(now)))
        again = [job.pk for job in stale if not _give_up(job, now)]
        ImportJob.objects.filter(pk__in=again).update(status=ImportStatus.PENDING, pending_since=now)
        for pk in again:
            log.warning("import job %s: its worker stopped (no heartbeat for %s); queued again", pk, STALE_AFTER)
            transaction.on_commit(lambda pk=pk: _send(pk))
    lost = [pk for pk in ImportJob.objects.filter(_lost(now)).values_list("pk", flat=True) if _requeue_lost(pk, now)]
    for pk in lost:
        log.warning("import job %s: pending for over %s with no worker (its message was lost?); queued again",
                    pk, PENDING_STALE_AFTER)
        transaction.on_commit(lambda pk=pk: _send(pk))
    return len(again) + len(lost)


def run_job(job_id: int) -> ImportJob | None:
    """Validate (and, unless a dry run, apply) a pending job, or take over a stale running one.
    Safe to call twice: the first call claims the job, the second finds it claimed and returns."""
    attempt = _claim(job_id)
    if attempt is None:
        return None
    mine = ImportJob.objects.filter(pk=job_id, status=ImportStatus.RUNNING, attempts=attempt)
    try:
        _run(ImportJob.objects.get(pk=job_id), mine)
    except LostClaim:
        log.warning("import job %s attempt %s was taken over; this worker wrote nothing", job_id, attempt)
    except Exception as e:  # the job page must say it failed, whatever happened
        log.exception("import job %s failed", job_id)
        mine.update(status=ImportStatus.FAILED, message=f"Failed: {e}", finished_at=timezone.now())
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    if job.attempts == attempt and job.status in FINISHED:
        _tell_uploader(job)
    return job


FINISHED = (ImportStatus.DONE, ImportStatus.REFUSED, ImportStatus.FAILED)


def _tell_uploader(job: ImportJob) -> None:
    """The person who uploaded the file is told how it ended, once per attempt (the key): imports
    run in the background and may take minutes."""
    title = {ImportStatus.DONE: "Dry run finished" if job.dry_run else "Import finished",
             ImportStatus.REFUSED: "Import refused", ImportStatus.FAILED: "Import failed"}[job.status]
    delivery.save_all([delivery.make(
        job.created_by, kind=NotificationKind.IMPORT_FINISHED, title=f"{title}: {job.filename or job.get_kind_display()}",
        body=job.message, url=reverse("imports:job", args=[job.pk]), key=f"import:{job.pk}:{job.attempts}",
    )])


class _Heartbeat:
    """Progress and a sign of life, written at most every HEARTBEAT_SECONDS."""

    def __init__(self, mine):
        self.mine, self.last = mine, time.monotonic()

    def __call__(self, processed: int | None = None) -> None:
        if time.monotonic() - self.last < HEARTBEAT_SECONDS:
            return
        self.last = time.monotonic()
        progress = {"processed_rows": processed} if processed is not None else {}
        if not self.mine.update(heartbeat_at=timezone.now(), **progress):
            raise LostClaim()


def _run(job: ImportJob, mine) -> None:
    """`mine`: the job's row while it is still this worker's attempt (every write goes through it)."""
    beat = _Heartbeat(mine)
    csv_file = read_csv(bytes(job.content))
    header = csv_file.header
    columns = {name: column for column, name in job.mapping.items() if name}
    defaults = job.defaults if isinstance(job.defaults, dict) else {}
    props = resolve_properties(job.kind, job.mapping, job.new_properties or {})
    generate_ids = needs_generated_ids(job.kind, job.mapping, defaults)
    read = RowReader(props, job.value_maps or {}, keep_unknown_source=job.kind == ImportKind.LEADS,
                     default_source=defaults.get("source", ""))
    mine.update(total_rows=len(csv_file.rows), heartbeat_at=timezone.now())
    parsed: list[tuple[int, int, dict[str, Any], list[tuple[str, str]]]] = []
    for n, record in enumerate(csv_file.rows, start=1):
        if record.problem:
            values, problems = {}, [("", record.problem)]
        else:
            values, problems = read(cell_values(header, job.mapping, record.cells, defaults), columns)
            if generate_ids:
                values["external_id"] = generated_id(job.filename, n)
        parsed.append((n, record.line, values, problems))
        if n % PROGRESS_EVERY == 0:
            beat()
    ctx = Context(job, [v for _, _, v, _ in parsed])
    goods: list[Good] = []
    errors: list[RowError] = []
    bad = 0
    for i, (n, line, values, problems) in enumerate(parsed, start=1):
        if problems:
            bad += 1
            errors += [RowError(n, c, msg, line) for c, msg in problems]
        else:
            try:
                good = validate(ctx, job.kind, n, values, columns)
            except Bad as e:
                bad += 1
                errors.append(RowError(n, e.args[1] if len(e.args) > 1 and e.args[1] else "", str(e.args[0]), line))
            else:
                good.line = line
                goods.append(good)
        if i % PROGRESS_EVERY == 0:
            beat(i)
    warnings = [{"row": g.row, "line": g.line, "message": w} for g in goods for w in g.warnings]
    report = {
        "processed_rows": len(parsed), "good_rows": len(goods), "bad_rows": bad,
        "errors": [e.as_dict() for e in errors[:MAX_ERRORS_STORED]], "warnings": warnings[:MAX_ERRORS_STORED],
    }
    if job.dry_run:
        message = f"Dry run: {len(goods)} good rows, {bad} bad rows. Nothing was written."
        mine.update(status=ImportStatus.DONE, message=message, finished_at=timezone.now(), **report)
        return
    if bad and job.mode == ImportMode.ALL_OR_NOTHING:
        message = f"{bad} bad rows: nothing was imported (all or nothing). Fix them, or choose to skip bad rows."
        mine.update(status=ImportStatus.REFUSED, message=message, finished_at=timezone.now(), **report)
        return
    with pghistory.context(source="import", import_job=job.pk), transaction.atomic():
        # Lock the job row for the whole write: the sweep skips it, and a worker whose attempt
        # was taken over while it validated stops here, before writing anything.
        if not list(mine.select_for_update().values_list("pk", flat=True)):
            raise LostClaim()
        create_properties(job, props)
        created = APPLY[job.kind](job, goods)
        skipped = f", {bad} bad rows skipped" if bad else ""
        message = "Imported " + ", ".join(f"{n} {what}" for what, n in created.items()) + skipped + "."
        now = timezone.now()
        # In the same transaction as the rows: a job is either imported and done, or neither.
        mine.update(status=ImportStatus.DONE, message=message, created=created, finished_at=now, imported_at=now, **report)
