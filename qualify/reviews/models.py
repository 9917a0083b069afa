"""Manager review queues and follow-up tasks.

Reviews: a ReviewPlan (admin-edited) says which team, how often, which population and how many;
beat builds one ReviewQueue per plan and period from a recorded random sample (seed + population),
and the reviewer gives each ReviewItem a verdict against the plan's checklist of red flags.

FollowUpTasks are the owner's to-do list: a reviewer's follow-up, or a re-qualification that
qualify/pipeline opened (sub-stages and re-qualification live there).
"""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from qualify.formatting import show_date
from qualify.leads.models import Source


class Cadence(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"


class Population(models.TextChoices):
    ACCEPTED_RECENT = "accepted_recent", "Leads accepted (SQL) in the last N days"
    OPEN_OPPORTUNITIES = "open_opportunities", "Open opportunities"
    CLOSED_LAST_MONTH = "closed_last_month", "Deals won and lost last month (N of each)"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class RedFlag(models.Model):
    """A sign of a "fake qualified" lead that a reviewer ticks when they see it."""

    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True, default="")
    active = models.BooleanField(default=True, help_text="Retired flags stay on past reviews but are no longer offered.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class ReviewPlan(models.Model):
    name = models.CharField(max_length=120)
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="review_plans")
    cadence = models.CharField(max_length=16, choices=Cadence.choices, default=Cadence.WEEKLY)
    population = models.CharField(max_length=32, choices=Population.choices, default=Population.ACCEPTED_RECENT)
    lookback_days = models.PositiveIntegerField(
        default=7, validators=[MinValueValidator(1), MaxValueValidator(366)],
        help_text="For 'accepted in the last N days': N.",
    )
    sample_size = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text="Items per queue (for won/lost: this many of each).",
    )
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_plans")
    red_flags = models.ManyToManyField(RedFlag, blank=True, related_name="plans", help_text="The checklist.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["team__name", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(sample_size__gte=1), name="reviewplan_sample_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.team})"

    def clean(self) -> None:
        if self.reviewer_id and self.team_id:
            reviewer = self.reviewer
            if not reviewer.manages(self.team_id):
                raise ValidationError({"reviewer": "The reviewer must be a manager of the team or a RevOps admin."})


class ReviewQueue(models.Model):
    """One period's sample for one plan. The seed and the population are recorded so anyone can
    re-draw the sample later and get the same items (see sampling.explain)."""

    plan = models.ForeignKey(ReviewPlan, on_delete=models.PROTECT, related_name="queues")
    team = models.ForeignKey("accounts.Team", on_delete=models.PROTECT, related_name="+")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_queues")
    period_start = models.DateField(help_text="First day of the week or month this queue covers.")
    population_kind = models.CharField(max_length=32, choices=Population.choices)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField()
    sample_size = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    # {stratum: [lead ids ascending]}; stratum "" when the population is not split (won/lost otherwise).
    population = models.JSONField(default=dict)
    population_size = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            # The beat task may run many times per period (and twice at once): one queue per period.
            models.UniqueConstraint(fields=["plan", "period_start"], name="reviewqueue_one_per_plan_period"),
        ]
        indexes = [
            # Reviews page: a team's queues, newest first.
            models.Index(fields=["team", "-period_start"], name="reviewqueue_team_period"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.name} · {show_date(self.period_start)}"


class Verdict(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed qualified"
    FALSE_SQL = "false_sql", "False SQL"
    NEEDS_FOLLOW_UP = "needs_follow_up", "Needs follow-up"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class ReviewItem(models.Model):
    queue = models.ForeignKey(ReviewQueue, on_delete=models.CASCADE, related_name="items")
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="review_items")
    position = models.PositiveIntegerField()
    stratum = models.CharField(max_length=16, blank=True, default="", help_text="won / lost for closed-deal reviews.")
    # Frozen when sampled: who qualified it and where it came from, for false-SQL rates by rep and source.
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The SDR who qualified (handed off) the lead, else its owner when sampled.",
    )
    source = models.CharField(max_length=16, choices=Source.choices, blank=True, default="")
    verdict = models.CharField(max_length=16, choices=Verdict.choices, blank=True, default="")
    flags = models.ManyToManyField(RedFlag, blank=True, related_name="+")
    note = models.TextField(blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["queue", "position"]
        constraints = [
            # Never the same lead twice in one queue.
            models.UniqueConstraint(fields=["queue", "lead"], name="reviewitem_once_per_queue"),
            models.UniqueConstraint(fields=["queue", "position"], name="reviewitem_position_unique"),
            models.CheckConstraint(
                condition=Q(verdict="") | Q(reviewed_at__isnull=False), name="reviewitem_verdict_has_time"
            ),
        ]
        indexes = [
            # False-SQL rate: verdicts given in a date range, by rep and source.
            models.Index(fields=["reviewed_at"], name="reviewitem_reviewed_at", condition=~Q(verdict="")),
        ]

    def __str__(self) -> str:
        return f"#{self.position} {self.lead}"

    @property
    def is_reviewed(self) -> bool:
        return bool(self.verdict)


class TaskKind(models.TextChoices):
    REVIEW_FOLLOW_UP = "review_follow_up", "Review follow-up"
    REQUALIFY = "requalify", "Re-qualify"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class FollowUpTask(models.Model):
    """Something the lead's owner must do by a date: a reviewer's follow-up or a re-qualification."""

    kind = models.CharField(max_length=24, choices=TaskKind.choices)
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="follow_up_tasks")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_up_tasks")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Empty when a rule created it.",
    )
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True, default="")
    due_on = models.DateField()
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_note = models.TextField(blank=True, default="")
    review_item = models.OneToOneField(
        ReviewItem, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_up"
    )
    requalification = models.OneToOneField(
        "pipeline.Requalification", null=True, blank=True, on_delete=models.CASCADE, related_name="task"
    )

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            # Tasks page and nav count: WHERE assignee_id=? AND status='open' ORDER BY due_on.
            models.Index(fields=["assignee", "due_on"], name="followup_assignee_open", condition=Q(status="open")),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == TaskStatus.OPEN and self.due_on < timezone.localdate()
