"""Celery tasks of the Segment door."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="segment.attach_linked")
def attach_linked() -> int:
    """Beat, every minute: pending events whose sender has become a lead are attached to it."""
    from .tracking import attach_linked as sweep

    return sweep()
