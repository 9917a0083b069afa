"""Celery beat work for reviews: build the period's review queues, run re-qualification triggers.

Both are idempotent: a plan gets one queue per period (unique constraint), a decayed MQL moves once
(move_stage expects MQL), and a quiet opportunity has at most one open flag (partial unique index).
"""

import pghistory
from celery import shared_task


@shared_task(name="reviews.build_review_queues")
def build_review_queues() -> int:
    from .sampling import build_due_queues

    with pghistory.context(source="task:reviews.build_review_queues"):
        return build_due_queues()


@shared_task(name="reviews.run_requalification")
def run_requalification() -> dict[str, int]:
    from .requalify import run_mql_decay, run_opportunity_inactivity

    with pghistory.context(source="task:reviews.run_requalification"):
        return {"nurtured": run_mql_decay(), "flagged": run_opportunity_inactivity()}
