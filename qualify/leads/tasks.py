"""Periodic lead maintenance run by Celery beat."""

from celery import shared_task

from .lifecycle import recycle_due


@shared_task(name="leads.recycle_nurtured")
def recycle_nurtured() -> int:
    """Bring nurtured leads whose recycle date has come back to the SDR queue. Idempotent:
    a lead is recycled once because the sweep only picks leads still in Nurture."""
    import pghistory

    with pghistory.context(source="task:leads.recycle_nurtured"):
        return recycle_due()
