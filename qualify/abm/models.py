"""Account-level qualification: what RevOps defines per scoring model (its segment) — the buying
committee's roles and the account rules with their MQA threshold — and what the batch after scoring
stores per account (AccountScore: the figures the queue shows and the MQA crossing, with when).

An account is judged by the scoring model that scores most of its people (measures.py), so the
committee and account rules of a segment's model apply to that segment's accounts.
"""

from __future__ import annotations

from functools import cached_property

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from qualify.leads.models import Persona


def split_list(value: str) -> list[str]:
    """'Finance, Procurement' → ['finance', 'procurement'] (matching is case-insensitive)."""
    return [part.strip().lower() for part in value.split(",") if part.strip()]


class AccountScoring(models.Model):
    """The account side of one scoring model: engaged threshold, MQA threshold, roles and rules."""

    model = models.OneToOneField("scoring.ScoringModel", on_delete=models.CASCADE, related_name="account_scoring")
    engaged_points = models.FloatField(
        default=5, help_text="A person counts as engaged while their engagement points now (decay included) are at "
        "least this."
    )
    mqa_threshold = models.PositiveIntegerField(
        default=50, help_text="An account whose account score reaches this becomes a marketing-qualified account."
    )

    class Meta:
        verbose_name = "account scoring and buying committee"

    def __str__(self) -> str:
        return f"Accounts scored by {self.model}"

    def clean(self) -> None:
        if self.engaged_points is not None and self.engaged_points <= 0:
            raise ValidationError({"engaged_points": "Use a positive number of points."})


class CommitteeRole(models.Model):
    """A role a deal needs. A person fills it when their persona is one of `personas`, or — when
    departments and/or title keywords are given — their department is one of them (if given) and
    their title contains one of the keywords (if given). Covered: filled by someone engaged."""

    scoring = models.ForeignKey(AccountScoring, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=60)
    position = models.PositiveSmallIntegerField(default=0)
    personas = models.CharField(
        max_length=200, blank=True, default="",
        help_text="Comma-separated persona codes: " + ", ".join(v for v in Persona.values if v),
    )
    departments = models.CharField(max_length=300, blank=True, default="", help_text="Comma-separated, any case.")
    title_keywords = models.CharField(
        max_length=300, blank=True, default="", help_text="Comma-separated words a title contains (any case), e.g. CFO, VP Finance."
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["scoring", "name"], name="abm_role_name_unique")]

    def __str__(self) -> str:
        return self.name

    # Parsed once per loaded role: the batch matches every person of hundreds of accounts against it.
    @cached_property
    def persona_set(self) -> frozenset[str]:
        return frozenset(split_list(self.personas))

    @cached_property
    def department_set(self) -> frozenset[str]:
        return frozenset(split_list(self.departments))

    @cached_property
    def keyword_list(self) -> tuple[str, ...]:
        return tuple(split_list(self.title_keywords))

    def clean(self) -> None:
        unknown = [p for p in split_list(self.personas) if p not in Persona.values or not p]
        if unknown:
            raise ValidationError({"personas": f"Unknown persona: {', '.join(unknown)}. Use: "
                                   + ", ".join(v for v in Persona.values if v) + "."})
        if not (self.personas.strip() or self.departments.strip() or self.title_keywords.strip()):
            raise ValidationError("Say how a person is matched: personas, departments or title keywords.")


class Measure(models.TextChoices):
    ENGAGED_PEOPLE = "engaged_people", "Engaged people"
    DEPARTMENTS = "departments_engaged", "Departments engaged"
    COVERAGE = "coverage_percent", "Committee coverage (%)"
    FIT = "account_fit", "Account fit (best fit points of its people)"
    ACTIVE_WEEK = "engaged_this_week", "People with activity in the last 7 days"


class AccountRule(models.Model):
    """`points` when the account's `measure` is at least `at_least`."""

    scoring = models.ForeignKey(AccountScoring, on_delete=models.CASCADE, related_name="rules")
    measure = models.CharField(max_length=24, choices=Measure.choices)
    at_least = models.FloatField()
    points = models.IntegerField()

    class Meta:
        ordering = ["measure", "at_least", "id"]

    def __str__(self) -> str:
        return self.label

    @cached_property
    def label(self) -> str:
        return f"{self.get_measure_display()} ≥ {self.at_least:g}: {self.points:+d}"


class AccountScore(models.Model):
    """The account's figures as of the last batch after scoring (refresh.py), and when it became an
    MQA. The account page computes them live; the queue and the MQA crossing read these."""

    account = models.OneToOneField("leads.Account", on_delete=models.CASCADE, primary_key=True, related_name="abm_score")
    scoring = models.ForeignKey(AccountScoring, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    score = models.IntegerField(default=0)
    engagement = models.FloatField(default=0)
    engaged_people = models.PositiveIntegerField(default=0)
    departments_engaged = models.PositiveIntegerField(default=0)
    roles_covered = models.PositiveSmallIntegerField(default=0)
    roles_total = models.PositiveSmallIntegerField(default=0)
    engaged_this_week = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)
    mqa_at = models.DateTimeField(null=True, blank=True, help_text="When the account first reached its MQA threshold.")

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score}"


class PendingAccount(models.Model):
    """An account whose people scoring rewrote since its figures were last stored: the scoring
    listener adds it (one INSERT per chunk), the beat drain refreshes and removes it, so an account
    whose people receive a thousand events in a minute is refreshed once in that minute. A plain
    id, not a foreign key: marking takes no lock on the account."""

    account_id = models.BigIntegerField(primary_key=True)
    since = models.DateTimeField(default=timezone.now)
