"""Celery tasks for predictions: they take ids and are safe to redeliver (versions.py claims work
with conditional UPDATEs)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="predictions.train_version", acks_late=True, time_limit=3600, soft_time_limit=3500)
def train_version(version_id: int) -> str:
    from .versions import run_training

    version = run_training(version_id)
    return version.status if version else "skipped"


@shared_task(name="predictions.activate_version", acks_late=True, time_limit=3600, soft_time_limit=3500)
def activate_version(version_id: int) -> None:
    from .models import PredictionVersion, Status
    from .versions import activate

    if PredictionVersion.objects.filter(pk=version_id, status=Status.SCORING).exists():
        activate(version_id)


@shared_task(name="predictions.take_over_stalled")
def take_over_stalled() -> int:
    """Beat, every minute: versions whose message was lost or whose worker died (versions.py)."""
    from .versions import take_over_stalled as sweep

    return sweep()


@shared_task(name="predictions.train_weekly")
def train_weekly(window_days: int = 365) -> int:
    """The beat entry "Retrain predictions (weekly)": queue a training with that window."""
    from .versions import request_training

    return request_training(window_days=window_days).pk


@shared_task(name="predictions.predict_leads", acks_late=True)
def predict_leads(lead_ids: list[int]) -> int:
    from .scoring import predict_ids

    return predict_ids(lead_ids)
