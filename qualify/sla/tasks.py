"""SLA enforcement run by Celery beat (the 'SLA sweep' periodic task, editable in admin)."""

from __future__ import annotations

import logging

import pghistory
from celery import shared_task

from . import reconcile
from qualify.notifications.delivery import send_pending_emails
from .sweep import sweep as run_sweep

log = logging.getLogger(__name__)


@shared_task(name="sla.sweep")
def sweep() -> str:
    """Act on warnings, breaches and escalations due now, then send queued emails.

    Idempotent and safe to overlap: due clocks are claimed with SKIP LOCKED and each step is
    recorded once (UNIQUE(clock, step)); a run killed mid-batch is rolled back and redone.
    """
    with pghistory.context(source="task:sla.sweep"):
        result = run_sweep()
    sent = send_pending_emails()
    if result.steps or sent:
        log.info("SLA sweep: %s; %d emails sent", result, sent)
    return f"{result}; {sent} emails"


@shared_task(name="sla.reconcile_new_mqls")
def reconcile_new_mqls() -> dict[str, int]:
    """Route and clock new MQLs whose after-commit listeners never ran (reconcile.py)."""
    with pghistory.context(source="task:sla.reconcile_new_mqls"):
        done = reconcile.reconcile_new_mqls()
    if any(done.values()):
        log.warning("Reconciled new MQLs whose listeners did not run: %s", done)
    return done


@shared_task(name="sla.send_emails")
def send_emails() -> int:
    """Kept for messages queued under this name before notifications.send_emails existed."""
    return send_pending_emails()
