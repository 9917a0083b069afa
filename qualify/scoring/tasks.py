"""Celery tasks for scoring. They take ids, are idempotent and safe to redeliver."""

from __future__ import annotations

import pghistory
from celery import shared_task
from django.db import InterfaceError, OperationalError


# Leads another transaction held are tried again this much later (that one is usually an ingestion
# of the same leads, committing within a second).
BUSY_RETRY_SECONDS = 1
# A database restart or failover drops connections (OperationalError, InterfaceError): retry after
# 1, 2, 4 ... 60 s, about ten minutes in all; if it stays down longer the reconciler catches up.
TRANSIENT_DB_ERRORS = (OperationalError, InterfaceError)
DB_RETRY = {"autoretry_for": TRANSIENT_DB_ERRORS, "retry_backoff": 1, "retry_backoff_max": 60,
            "retry_jitter": True, "max_retries": 15}


@shared_task(name="scoring.score_leads", acks_late=True, **DB_RETRY)
def score_leads(lead_ids: list[int]) -> int:
    """Update the scores of leads that received events (or changed fit fields). Idempotent: the
    watermark makes a second run see no new events and rewrite the same values. Each chunk commits
    on its own, so a retry after a database error redoes at most the chunk that failed."""
    from qualify.lookups import reused_lookups

    from .scores import score_leads as run

    # The leads this makes MQLs start SLA clocks after each commit: one policy lookup for them all.
    with pghistory.context(source="task:scoring.score_leads"), reused_lookups():
        written, busy = run(lead_ids)
    if busy:
        score_leads.apply_async((busy,), countdown=BUSY_RETRY_SECONDS)
    return written


@shared_task(name="scoring.run_recompute", acks_late=True, **DB_RETRY)
def run_recompute(run_id: int, lane: int = 0) -> bool:
    """Process a slice of one lane of a full recompute, then re-queue the rest. A redelivered
    message resumes from the lane's committed cursor."""
    from .runs import run_batches

    with pghistory.context(source="task:scoring.run_recompute"):
        finished = run_batches(run_id, lane=lane)
    if not finished:
        run_recompute.delay(run_id, lane)
    return finished


@shared_task(name="scoring.daily_snapshot")
def daily_snapshot() -> int:
    """Beat: one snapshot per open scored lead per day (a second run the same day adds nothing)."""
    from .history import snapshot_daily

    return snapshot_daily()


@shared_task(name="scoring.refresh_decayed")
def refresh_decayed() -> int:
    """Beat, every minute: rewrite the stored score of leads whose displayed value decay changed."""
    from .decay import refresh_all_due

    return refresh_all_due()


@shared_task(name="scoring.reconcile")
def reconcile(grace_seconds: float | None = None) -> int:
    """Beat, every minute: score leads whose events are past their watermark (lost or late messages)."""
    import datetime

    from qualify.lookups import reused_lookups

    from . import reconcile as sweep

    grace = sweep.GRACE if grace_seconds is None else datetime.timedelta(seconds=grace_seconds)
    with pghistory.context(source="task:scoring.reconcile"), reused_lookups():
        return sweep.reconcile(grace=grace)


@shared_task(name="scoring.take_over_stale_runs")
def take_over_stale_runs(stale_seconds: float | None = None) -> int:
    """Beat, every minute: re-queue recompute lanes whose worker stopped beating."""
    import datetime

    from . import runs

    stale = runs.STALE_AFTER if stale_seconds is None else datetime.timedelta(seconds=stale_seconds)
    return len(runs.take_over_stale(stale_after=stale))
