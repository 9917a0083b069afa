"""Celery beat work for reviews: build the period's review queues.

Idempotent: a plan gets one queue per period (unique constraint). The re-qualification sweep is
qualify/pipeline/tasks.py.
"""

import pghistory
from celery import shared_task


@shared_task(name="reviews.build_review_queues")
def build_review_queues() -> int:
    from .sampling import build_due_queues

    with pghistory.context(source="task:reviews.build_review_queues"):
        return build_due_queues()
