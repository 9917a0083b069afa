"""A record of every suggestion RevOps accepted into a scoring model's draft, with its evidence."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class AcceptedSuggestion(models.Model):
    """One accepted change: which draft, what it changed from and to, and the figures behind it at
    the time (they change as outcomes arrive). The draft itself is the scoring model in admin."""

    model = models.ForeignKey("scoring.ScoringModel", on_delete=models.CASCADE, related_name="accepted_suggestions")
    version = models.ForeignKey(
        "scoring.ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The published version the figures were about.",
    )
    key = models.CharField(max_length=100)
    kind = models.CharField(max_length=16)
    rule = models.ForeignKey("scoring.Rule", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    label = models.CharField(max_length=200)
    from_value = models.IntegerField()
    to_value = models.IntegerField()
    headline = models.CharField(max_length=300)
    evidence = models.TextField()
    sample = models.PositiveIntegerField(help_text="Closed leads behind the evidence.")
    window_days = models.PositiveIntegerField()
    team_ids = models.JSONField(default=list, help_text="Teams whose closed leads were counted.")
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-accepted_at", "-id"]
        constraints = [
            # Accepting the same suggestion twice on one published version is refused (suggestions.accept).
            models.UniqueConstraint(fields=["model", "version", "key"], name="calibration_accepted_once"),
        ]

    def __str__(self) -> str:
        return self.headline
