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


@shared_task(name="leads.sync_property_indexes", acks_late=True, time_limit=3600, soft_time_limit=3500)
def sync_property_indexes() -> dict[str, list[str]]:
    """Create the range index of each active number property and drop those no property wants
    (leads/property_indexes.py). Queued after a definition commits, and hourly by beat so a
    database that missed a message catches up. Idempotent: a redelivery finds nothing to do."""
    from .property_indexes import sync

    return sync()
