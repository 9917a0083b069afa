"""Celery beat work for the pipeline: run the re-qualification triggers.

Idempotent: a decayed MQL moves once (move_stage expects MQL), and a quiet opportunity has at most
one open flag (partial unique index). The task keeps the name it had in reviews, so the beat entry
(reviews 0002) and queued messages still find it.
"""

import pghistory
from celery import shared_task


@shared_task(name="reviews.run_requalification")
def run_requalification() -> dict[str, int]:
    from .requalification import run_mql_decay, run_opportunity_inactivity

    with pghistory.context(source="task:reviews.run_requalification"):
        return {"nurtured": run_mql_decay(), "flagged": run_opportunity_inactivity()}
