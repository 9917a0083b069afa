"""The opportunity pipeline after qualification: sub-stages and re-qualification.

Opportunities have sub-stages (OpportunityStage, admin-edited); LeadOpportunityStage is an
opportunity's current one and OpportunityStageChange its append-only history. Entering a checkpoint
sub-stage asks the owner to re-confirm the framework answers.

Re-qualification: RequalTrigger rows (admin-edited) say when a lead goes back to Nurture or an
opportunity is flagged; every firing is a Requalification row with its reason, and the owner gets a
follow-up task (reviews.FollowUpTask, the owner's to-do list).

These models moved here from `reviews` in state only (issue 11): their tables, pghistory event
tables included, keep their `reviews_*` names (Meta.db_table), so no row was copied.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TriggerKind(models.TextChoices):
    MQL_DECAY = "mql_decay", "MQL score decayed, no touch for N days → Nurture"
    OPPORTUNITY_INACTIVE = "opportunity_inactive", "Opportunity without activity for N days → flag"
    CHECKPOINT_STAGE = "checkpoint_stage", "Opportunity enters a checkpoint sub-stage → re-confirm answers"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), meta={"db_table": "reviews_requaltriggerevent"})
class RequalTrigger(models.Model):
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=24, choices=TriggerKind.choices)
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Leave empty for every team. A team's own trigger of a kind wins over the catch-all.",
    )
    days = models.PositiveIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="N: days without a touch / without activity."
    )
    score_threshold = models.IntegerField(
        null=True, blank=True,
        help_text="MQL decay: below this score. Empty: the scoring model's MQL threshold (50 without one).",
    )
    task_due_days = models.PositiveIntegerField(default=3, help_text="The owner's task is due this many days later.")
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "reviews_requaltrigger"
        ordering = ["kind", "team__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "team"], condition=Q(active=True), name="requaltrigger_one_active_per_kind_team",
                nulls_distinct=False,
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), meta={"db_table": "reviews_opportunitystageevent"})
class OpportunityStage(models.Model):
    """A sub-stage of an opportunity (Discovery, Demo, Pricing, Security/legal review...)."""

    name = models.CharField(max_length=80, unique=True)
    position = models.PositiveIntegerField(default=0)
    checkpoint = models.BooleanField(
        default=False, help_text="Entering it asks the owner to re-confirm the framework answers."
    )
    active = models.BooleanField(default=True)

    class Meta:
        db_table = "reviews_opportunitystage"
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class LeadOpportunityStage(models.Model):
    """The current sub-stage of an opportunity (one row per lead; history in OpportunityStageChange)."""

    lead = models.OneToOneField("leads.Lead", primary_key=True, on_delete=models.CASCADE, related_name="opportunity_stage")
    stage = models.ForeignKey(OpportunityStage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "reviews_leadopportunitystage"

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.stage}"


class OpportunityStageChange(models.Model):
    """Append-only history of sub-stage moves."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="opportunity_stage_changes")
    from_stage = models.ForeignKey(OpportunityStage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    to_stage = models.ForeignKey(OpportunityStage, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "reviews_opportunitystagechange"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["lead", "-at"], name="oppstagechange_lead_time")]
        triggers = [pgtrigger.Protect(name="oppstagechange_append_only", operation=pgtrigger.Update)]


class RequalStatus(models.TextChoices):
    APPLIED = "applied", "Applied (moved to Nurture)"
    OPEN = "open", "Waiting for the owner"
    RESOLVED = "resolved", "Re-confirmed"


class Requalification(models.Model):
    """One firing of a trigger on one lead, with the reason in words."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="requalifications")
    trigger = models.ForeignKey(RequalTrigger, null=True, blank=True, on_delete=models.SET_NULL, related_name="firings")
    kind = models.CharField(max_length=24, choices=TriggerKind.choices)
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=RequalStatus.choices)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.TextField(blank=True, default="")
    checkpoint = models.ForeignKey(OpportunityStage, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        db_table = "reviews_requalification"
        ordering = ["-created_at", "-id"]
        constraints = [
            # Sweeps run daily and may overlap: at most one open request per lead and kind.
            models.UniqueConstraint(fields=["lead", "kind"], condition=Q(status="open"), name="requal_one_open_per_lead_kind"),
        ]
        indexes = [models.Index(fields=["lead", "-created_at"], name="requal_lead_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason}"
