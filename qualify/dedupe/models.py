"""Candidate pairs of duplicate leads and accounts, found on create (listeners.py) or by the bulk
finder (finder.py), until RevOps merges them or says they are not duplicates."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class Kind(models.TextChoices):
    LEAD = "lead", "Leads"
    ACCOUNT = "account", "Accounts"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    MERGED = "merged", "Merged"
    DISMISSED = "dismissed", "Not a duplicate"


class DuplicateCandidate(models.Model):
    """Two leads (or two accounts) of one team that look like the same person (company).

    `low_id` < `high_id` are plain ids, not foreign keys: a merge deletes one of them and the pair
    stays as a record of what was merged (dedupe's leads_merged listener moves or closes the rows
    of the merged id). `new_id` is the one whose arrival flagged the pair (empty for the bulk
    finder). `reasons` is a list of {"rule", "detail", "confidence"}.
    """

    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.LEAD)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+", db_index=False)
    low_id = models.BigIntegerField()
    high_id = models.BigIntegerField()
    new_id = models.BigIntegerField(null=True, blank=True, help_text="The record whose arrival flagged the pair.")
    confidence = models.FloatField(help_text="0–1: how sure the rules are that the two are one.")
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(low_id__lt=F("high_id")), name="dupcandidate_ordered_pair"),
            # A pair is flagged once; detection and the finder upsert on it (ON CONFLICT).
            models.UniqueConstraint(fields=["kind", "low_id", "high_id"], name="dupcandidate_pair_unique"),
        ]
        indexes = [
            # The duplicates page: a team's open pairs, most confident first.
            models.Index("team", "kind", F("confidence").desc(), name="dupcandidate_open",
                         condition=Q(status="open")),
            # The merge listener and the lead page: pairs a given record is part of.
            models.Index(fields=["kind", "high_id"], name="dupcandidate_high"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.low_id} ~ {self.high_id} ({self.confidence:.2f})"

    @property
    def reason_text(self) -> str:
        return "; ".join(r.get("detail", r.get("rule", "")) for r in self.reasons)
