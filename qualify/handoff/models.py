"""A handoff: an SDR's packet of evidence offered to an AE, and the AE's decision on it."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from qualify.frameworks.models import AnswerStatus


class HandoffStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the AE"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    # The lead moved on without a decision (an imported outcome, an admin's disqualify).
    CLOSED = "closed", "Closed: the lead moved on"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Handoff(models.Model):
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="handoffs")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs_sent")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="handoffs_received")
    created_at = models.DateTimeField(default=timezone.now)
    next_step = models.TextField(help_text="The agreed next step, with a date.")
    note = models.TextField(blank=True, default="")
    # Frozen at handoff time: the AE judges what the SDR saw, even if answers change later.
    packet = models.JSONField(default=dict)
    source = models.CharField(max_length=16, blank=True, default="", help_text="Lead source at handoff, for feedback.")

    status = models.CharField(max_length=16, choices=HandoffStatus.choices, default=HandoffStatus.PENDING)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.ForeignKey(
        "leads.DisqualifyReason", null=True, blank=True, on_delete=models.PROTECT, related_name="handoffs"
    )
    decision_note = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            # One open handoff per lead: a double-clicked submit cannot create a second one.
            models.UniqueConstraint(fields=["lead"], condition=Q(status="pending"), name="handoff_one_pending_per_lead"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | Q(reason__isnull=False), name="handoff_rejection_has_reason"
            ),
        ]
        indexes = [
            # AE inbox: WHERE to_user_id=? AND status='pending' ORDER BY created_at.
            models.Index(fields=["to_user", "created_at"], name="handoff_inbox", condition=Q(status="pending")),
            models.Index(fields=["team", "status", "created_at"], name="handoff_team_status"),
            # Feedback report: decisions in a date range.
            models.Index(fields=["decided_at"], name="handoff_decided_at", condition=Q(decided_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"Handoff of {self.lead} to {self.to_user} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == HandoffStatus.PENDING

    @property
    def waited(self):
        return (self.decided_at or timezone.now()) - self.created_at

    @property
    def packet_answers(self) -> list[dict]:
        """The packet's answers with each status as people read it ("Confirmed"): packets, old
        ones included, store the code."""
        labels = dict(AnswerStatus.choices)
        return [{**a, "status_label": labels.get(a.get("status") or "", a.get("status") or "")}
                for a in self.packet.get("answers", [])]
