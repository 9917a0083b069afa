"""Import jobs: upload (create_job), queue a run (start), and the run itself (run_job).

Every run validates every row first (a dry run stops there and reports). A real run then
either writes all good rows in one transaction, or, in "all or nothing" mode with any bad row,
writes nothing. Small files run inline in the request; larger ones on the `io` Celery queue.
"""

from __future__ import annotations

import logging
from typing import Any

import pghistory
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from qualify.errors import DomainError

from . import tasks
from .apply import APPLY
from .columns import KIND_FIELDS, propose_mapping
from .models import ImportJob, ImportKind, ImportMode, ImportStatus
from .parsing import Bad, cell_values, parse_row, read_csv
from .validation import Context, Good, RowError, validate

log = logging.getLogger(__name__)

MAX_ERRORS_STORED = 1000
PROGRESS_EVERY = 500
INLINE_MAX_ROWS = 2000
MAX_BYTES = 50 * 1024 * 1024


def create_job(*, kind: str, team, by: User, content: bytes, filename: str = "", mapping: dict[str, str] | None = None,
               defaults: dict[str, str] | None = None) -> ImportJob:
    """Store an upload and propose a mapping. Refuses (DomainError) files it cannot read."""
    if kind not in ImportKind.values:
        raise DomainError("Choose what the file contains: leads, accounts or outcomes.", field="kind")
    if len(content) > MAX_BYTES:
        raise DomainError(f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it.", field="file")
    csv_file = read_csv(content)
    header = csv_file.header
    if len(set(header)) != len(header):
        raise DomainError("Two columns have the same name; rename one.", field="file")
    if mapping is not None:
        unknown = [c for c in mapping if c not in header]
        bad_fields = [f for f in mapping.values() if f and f not in KIND_FIELDS[kind]]
        if unknown:
            raise DomainError(f"Mapped columns not in the file: {', '.join(unknown)}.", field="mapping")
        if bad_fields:
            raise DomainError(f"Not fields of a {kind} import: {', '.join(bad_fields)}.", field="mapping")
    return ImportJob.objects.create(
        kind=kind, team=team, created_by=by, filename=filename[:255], content=content, header=header,
        mapping=mapping if mapping is not None else propose_mapping(header, kind), total_rows=len(csv_file.rows),
        defaults={k: v for k, v in (defaults or {}).items() if v},
    )


def start(job: ImportJob, *, dry_run: bool, mode: str, mapping: dict[str, str] | None = None) -> ImportJob:
    """Queue a run of `job` (inline when small). A job that already imported cannot run again."""
    if mode not in ImportMode.values:
        raise DomainError("Choose all-or-nothing or skip bad rows.", field="mode")
    if mapping is not None:
        unknown = [f for f in mapping.values() if f and f not in KIND_FIELDS[job.kind]]
        if unknown:
            raise DomainError(f"Not fields of a {job.kind} import: {', '.join(unknown)}.", field="mapping")
        chosen = [f for f in mapping.values() if f]
        if len(chosen) != len(set(chosen)):
            raise DomainError("Two columns are mapped to the same field.", field="mapping")
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().defer("content").get(pk=job.pk)
        if current.status in (ImportStatus.PENDING, ImportStatus.RUNNING):
            raise DomainError("This import is already running.")
        if current.imported_at is not None:
            raise DomainError("This file was already imported; upload it again to import it twice.")
        current.dry_run, current.mode, current.status = dry_run, mode, ImportStatus.PENDING
        if mapping is not None:
            current.mapping = {c: f for c, f in mapping.items() if f}
        current.save(update_fields=["dry_run", "mode", "status", "mapping"])
    if current.total_rows <= INLINE_MAX_ROWS:
        run_job(current.pk)
    else:
        transaction.on_commit(lambda: tasks.run_import.delay(current.pk))
    current.refresh_from_db()
    return current


def run_job(job_id: int) -> ImportJob | None:
    """Validate (and, unless a dry run, apply) a pending job. Safe to call twice: the first call
    claims the job with a conditional UPDATE, the second finds it claimed and returns."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING, started_at=timezone.now(), processed_rows=0, good_rows=0, bad_rows=0,
        errors=[], warnings=[], created={}, message="",
    )
    if claimed != 1:
        return None
    job = ImportJob.objects.get(pk=job_id)
    try:
        _run(job)
    except Exception as e:  # the job page must say it failed, whatever happened
        log.exception("import job %s failed", job_id)
        ImportJob.objects.filter(pk=job_id).update(
            status=ImportStatus.FAILED, message=f"Failed: {e}", finished_at=timezone.now()
        )
    return ImportJob.objects.get(pk=job_id)


def _run(job: ImportJob) -> None:
    csv_file = read_csv(bytes(job.content))
    header = csv_file.header
    columns = {name: column for column, name in job.mapping.items() if name}
    defaults = job.defaults if isinstance(job.defaults, dict) else {}
    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(csv_file.rows))
    parsed: list[tuple[int, int, dict[str, Any], list[tuple[str, str]]]] = []
    for n, record in enumerate(csv_file.rows, start=1):
        if record.problem:
            values, problems = {}, [("", record.problem)]
        else:
            values, problems = parse_row(cell_values(header, job.mapping, record.cells, defaults), columns)
        parsed.append((n, record.line, values, problems))
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
            ImportJob.objects.filter(pk=job.pk).update(processed_rows=i)
    warnings = [{"row": g.row, "line": g.line, "message": w} for g in goods for w in g.warnings]
    report = {
        "processed_rows": len(parsed), "good_rows": len(goods), "bad_rows": bad,
        "errors": [e.as_dict() for e in errors[:MAX_ERRORS_STORED]], "warnings": warnings[:MAX_ERRORS_STORED],
    }
    if job.dry_run:
        message = f"Dry run: {len(goods)} good rows, {bad} bad rows. Nothing was written."
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, message=message, finished_at=timezone.now(), **report)
        return
    if bad and job.mode == ImportMode.ALL_OR_NOTHING:
        message = f"{bad} bad rows: nothing was imported (all or nothing). Fix them, or choose to skip bad rows."
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.REFUSED, message=message, finished_at=timezone.now(), **report)
        return
    with pghistory.context(source="import", import_job=job.pk), transaction.atomic():
        created = APPLY[job.kind](job, goods)
    skipped = f", {bad} bad rows skipped" if bad else ""
    message = "Imported " + ", ".join(f"{n} {what}" for what, n in created.items()) + skipped + "."
    now = timezone.now()
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.DONE, message=message, created=created, finished_at=now, imported_at=now, **report
    )
