"""Qualification frameworks, their criteria, and the answers reps log against them.

A Framework (BANT, MEDDIC, a team's own) is a list of Criteria. Which framework applies to a lead
is decided in `selection.py`. Answers are append-only: the current answer for a criterion is the
latest one, and each answer keeps the criterion version and question wording it answered, so
editing a framework never rewrites what was said before.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from qualify.leads.models import Segment


class AnswerStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    PARTIAL = "partial", "Partial"
    UNKNOWN = "unknown", "Unknown"
    NEGATIVE = "negative", "Negative"


# A confirmed or partial answer is a claim; claims need evidence (otherwise: "fake qualified").
CLAIM_STATUSES = (AnswerStatus.CONFIRMED, AnswerStatus.PARTIAL)


class AnswerType(models.TextChoices):
    STATUS = "status", "Status (confirmed / partial / unknown / negative)"
    CHOICE = "choice", "Choice from a list"
    NUMBER = "number", "Number"
    TEXT = "text", "Free text"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Framework(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")
    teams = models.ManyToManyField(
        "accounts.Team", blank=True, related_name="frameworks", help_text="Leave empty to apply to every team."
    )
    segments = ArrayField(
        models.CharField(max_length=16, choices=Segment.choices),
        blank=True,
        default=list,
        help_text="Account segments this framework covers; leave empty for all segments.",
    )
    is_default = models.BooleanField(
        default=False,
        help_text="The catch-all: applies to every lead that no other active framework matches. "
        "At most one framework; it names no teams or segments.",
    )
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(
        default=0, help_text="Lower positions are tried first; the first matching framework applies to a lead."
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            # framework_for() falls back to "the" default; two defaults would make that arbitrary.
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="framework_one_default"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.is_default and self.segments:
            raise ValidationError({"segments": "The default framework covers every segment; leave segments empty."})

    def segment_labels(self) -> list[str]:
        return [Segment(s).label for s in self.segments if s in Segment.values]


# Changing any of these changes what the question asks, so it bumps Criterion.version.
WORDING_FIELDS = ("question", "guidance", "answer_type", "choices")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class Criterion(models.Model):
    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="criteria")
    key = models.SlugField(max_length=64, help_text="Stable identifier, unique within the framework.")
    position = models.PositiveIntegerField(default=0)
    dimension = models.CharField(max_length=64, help_text="Short label, e.g. 'Budget'.")
    question = models.TextField(help_text="What the rep must find out, phrased as a question.")
    guidance = models.TextField(blank=True, default="", help_text="What good evidence looks like.")
    answer_type = models.CharField(max_length=16, choices=AnswerType.choices, default=AnswerType.STATUS)
    choices = ArrayField(
        models.CharField(max_length=200), blank=True, default=list, help_text="Options for the 'choice' answer type."
    )
    weight = models.PositiveIntegerField(default=1, help_text="Share of completeness this criterion carries.")
    required_for_handoff = models.BooleanField(default=False)
    active = models.BooleanField(default=True, help_text="Retired criteria keep their answers but are no longer asked.")
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["framework", "position", "id"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(fields=["framework", "key"], name="criterion_key_unique_per_framework"),
            models.CheckConstraint(condition=Q(weight__gte=1), name="criterion_weight_positive"),
            models.CheckConstraint(
                condition=~Q(answer_type="choice") | ~Q(choices=[]), name="criterion_choice_has_choices"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.framework}: {self.dimension}" if self.framework_id else self.dimension

    def clean(self) -> None:
        if self.answer_type == AnswerType.CHOICE and len(self.choices) < 2:
            raise ValidationError({"choices": "A choice criterion needs at least two choices."})
        if self.answer_type != AnswerType.CHOICE and self.choices:
            raise ValidationError({"choices": "Only 'choice' criteria have choices; clear them."})
        if len(set(self.choices)) != len(self.choices):
            raise ValidationError({"choices": "Choices must be distinct."})

    def save(self, *args, **kwargs) -> None:
        """Save, and when the wording changed, keep the previous wording as a CriterionRevision and
        bump `version` so answers given to the old wording show as stale.

        Every write path (admin, inlines, API, shell) goes through save(), which is why the rule
        lives here. Queryset .update() bypasses it; don't use it for wording. Costs one extra
        locked read on update, plus one insert when the wording changed.
        """
        if self.pk is None or self._state.adding:
            super().save(*args, **kwargs)
            return
        with transaction.atomic():
            previous = Criterion.objects.select_for_update().filter(pk=self.pk).first()
            if previous is not None and any(getattr(previous, f) != getattr(self, f) for f in WORDING_FIELDS):
                CriterionRevision.objects.create(
                    criterion=previous,
                    version=previous.version,
                    question=previous.question,
                    guidance=previous.guidance,
                    answer_type=previous.answer_type,
                    choices=previous.choices,
                )
                # Bump from the locked row, not from this (possibly stale) instance.
                self.version = previous.version + 1
                if kwargs.get("update_fields") is not None:
                    kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
            elif previous is not None:
                self.version = previous.version
            super().save(*args, **kwargs)


class CriterionRevision(models.Model):
    """A superseded wording of a criterion. Append-only: it is itself the history."""

    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    question = models.TextField()
    guidance = models.TextField(blank=True, default="")
    answer_type = models.CharField(max_length=16, choices=AnswerType.choices)
    choices = ArrayField(models.CharField(max_length=200), blank=True, default=list)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["criterion", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["criterion", "version"], name="criterionrevision_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion} v{self.version}"


class Answer(models.Model):
    """One answer to one criterion for one lead. Append-only: a new answer supersedes the
    previous one and the old ones stay as history (a trigger refuses updates)."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="answers")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="answers")
    criterion_version = models.PositiveIntegerField()
    question_text = models.TextField(help_text="The question as worded when this answer was given.")
    status = models.CharField(max_length=16, choices=AnswerStatus.choices, blank=True, default="")
    value = models.TextField(blank=True, default="", help_text="The choice, the number, or the free text.")
    evidence = models.TextField(blank=True, default="")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    disputed = models.BooleanField(
        default=False,
        help_text="An AE rejected the handoff for this criterion's dimension: the row repeats the answer it "
        "disputes, with the AE as author and their note as evidence. It earns no credit and blocks handoff "
        "until a rep answers again with new evidence (frameworks/listeners.py).",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # completeness(): a lead's answers per criterion, newest first (the current one wins).
            models.Index("lead", "criterion", models.F("created_at").desc(), name="answer_lead_criterion_time"),
        ]
        triggers = [
            pgtrigger.Protect(name="answer_append_only", operation=pgtrigger.Update),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.display_value}"

    @property
    def display_value(self) -> str:
        return self.get_status_display() if self.status else self.value

    @property
    def badge_class(self) -> str:
        return "disputed" if self.disputed else (self.status or "value")

    @property
    def is_stale(self) -> bool:
        """Answered an earlier wording of the criterion (needs `criterion` loaded)."""
        return self.criterion_version < self.criterion.version
