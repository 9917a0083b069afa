"""Prediction versions: one training's models (one per scoring segment, or the global fallback),
their held-out evaluation, and whether they are the ones leads are scored with.

A version is immutable once trained: its fitted models are stored as a joblib blob beside the
report that judged them, so any old version can be re-evaluated or explain its own predictions.
Exactly one version is active; a retrain that does worse on the same held-out leads than the
active one waits for RevOps' approval instead of replacing it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Status(models.TextChoices):
    QUEUED = "queued", "Queued"
    TRAINING = "training", "Training"
    SCORING = "scoring", "Scoring leads"  # trained and better: scoring every lead before switching
    AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"  # worse than the active one
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"
    DECLINED = "declined", "Declined"
    FAILED = "failed", "Failed"


class PredictionVersion(models.Model):
    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    window_days = models.PositiveIntegerField(
        default=365, help_text="Outcomes closed within this many days before training are learnt from."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    trained_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="0-100, for the progress bar.")
    progress_note = models.CharField(max_length=200, blank=True, default="")
    # Who is working on it: a worker's claim counts an attempt and each progress report beats, so
    # the beat's sweep tells a training whose worker died from one still running (versions.py).
    attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    error = models.TextField(blank=True, default="")
    # What training found: per segment the outcomes, the estimator kept and why, held-out metrics
    # (AUC, Brier, reliability, ECE, capture), the features used and those left out as leaks.
    report = models.JSONField(default=dict, blank=True)
    # The same held-out metrics of the version that was active when this one was trained,
    # measured on this version's held-out leads (the comparison that decides approval).
    baseline = models.JSONField(default=dict, blank=True)
    artifact = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["status"], condition=Q(status="active"), name="prediction_one_active"),
        ]

    def __str__(self) -> str:
        return f"Prediction v{self.number}"

    @property
    def overall(self) -> dict[str, Any]:
        return self.report.get("overall", {})

    @property
    def is_running(self) -> bool:
        return self.status in (Status.QUEUED, Status.TRAINING, Status.SCORING)
