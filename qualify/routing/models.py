"""Routing rules (conditions → method), their round-robin cursors, and the assignment history."""

from __future__ import annotations

import pghistory
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Role
from qualify.leads.models import Segment, Source


class Method(models.TextChoices):
    USER = "user", "A named user"
    ROUND_ROBIN = "round_robin", "Round robin within the team"
    LEAST_LOADED = "least_loaded", "Least loaded (fewest open leads)"
    ACCOUNT_OWNER = "account_owner", "The account's owner (account-based)"


class AccountOwned(models.TextChoices):
    ANY = "", "Any"
    YES = "yes", "Account has an owner"
    NO = "no", "Account has no owner"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class RoutingRule(models.Model):
    """Leads matching every condition go to a rep chosen by `method`; first matching rule wins.

    Reps out of office or at capacity are skipped; a rule that finds nobody passes the lead to the
    next rule, and a lead no rule places goes to its team's pool.
    """

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=100, help_text="Lower positions are tried first.")
    active = models.BooleanField(default=True)

    # Conditions; blank means any.
    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             help_text="Leads of this team. Blank: any team.")
    segment = models.CharField(max_length=16, choices=Segment.choices, blank=True, default="")
    region = models.CharField(max_length=32, blank=True, default="", help_text="Account region, e.g. EMEA.")
    industry = models.CharField(max_length=100, blank=True, default="", help_text="Account industry (case-insensitive).")
    source = models.CharField(max_length=16, choices=Source.choices, blank=True, default="")
    account_owned = models.CharField(max_length=3, choices=AccountOwned.choices, blank=True, default="")
    override_owner = models.BooleanField(
        default=False, help_text="Also route matching new MQLs that already have an owner."
    )

    # Method.
    method = models.CharField(max_length=16, choices=Method.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+", help_text="The named user (method 'A named user').")
    role = models.CharField(max_length=16, choices=[(Role.SDR, "SDR"), (Role.AE, "AE")], default=Role.SDR,
                            help_text="Who takes turns (round robin, least loaded).")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+",
                                     help_text="Limit the rotation to these people. Blank: everyone with the role in the lead's team.")
    capacity = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Most open leads (New, MQL, Working) a rep may hold; reps at the cap are skipped. Blank: no cap "
        "beyond each rep's own (Membership capacity).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(method="user") | Q(user__isnull=False), name="routing_rule_user_method_has_user"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.method == Method.USER and not self.user_id:
            raise ValidationError({"user": "Choose the user this rule assigns to."})
        if self.method != Method.USER and self.user_id:
            raise ValidationError({"user": "Only the 'named user' method uses a user."})


class RoundRobinCursor(models.Model):
    """Whose turn it was, per rule. Locked FOR UPDATE while choosing, so concurrent routings of
    the same rule take turns instead of both picking the same rep."""

    rule = models.OneToOneField(RoutingRule, on_delete=models.CASCADE, primary_key=True, related_name="cursor")
    last_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    turns = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.rule}: last {self.last_user or '—'}"


class Assignment(models.Model):
    """Every change of a lead's owner: to whom, by which rule, by whom, when and why. Append-only."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="assignments")
    from_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    to_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="Empty: the team's pool.")
    rule = models.ForeignKey(RoutingRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    rule_name = models.CharField(max_length=100, blank=True, default="", help_text="The rule's name at the time.")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                           help_text="Empty when the system did it (routing, an SLA escalation).")
    at = models.DateTimeField(default=timezone.now)
    why = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # Lead page and API: a lead's assignment history, newest first.
            models.Index(fields=["lead", "-at"], name="assignment_lead_time"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.from_user_id or 'pool'} → {self.to_user_id or 'pool'}"
