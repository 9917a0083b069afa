"""The notification e-mail sender, queued after each commit that leaves e-mail pending."""

from __future__ import annotations

from celery import shared_task

from .delivery import send_pending_emails


@shared_task(name="notifications.send_emails")
def send_emails() -> int:
    """Send pending notification e-mail in batches. Idempotent: rows are claimed with SKIP LOCKED
    and marked sent with the send, so overlapping runs split the work."""
    return send_pending_emails()
