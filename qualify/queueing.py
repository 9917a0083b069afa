"""Queueing a Celery task from a request without letting a broker outage answer a 500.

The work behind each caller is already committed and found again from the database (a beat
sweep re-sends what no worker claimed), so a lost message only delays it; a 500 would tell the
user their change failed when it did not, and invite a double submit.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def send(task, *args, fallback: str) -> bool:
    """`task.delay(*args)`; False, logged with `fallback` (what picks the work up instead), when the
    broker cannot take it. Costs one publish, or the publish retry policy's second or so when the
    broker is down (settings.CELERY_TASK_PUBLISH_RETRY_POLICY)."""
    try:
        task.delay(*args)
    except Exception:  # noqa: BLE001 - any broker or connection error
        log.warning("Could not queue %s%s; %s", task.name, args, fallback, exc_info=True)
        return False
    return True
