"""Scoring models (the editable draft), their published versions, recompute runs and score history.

RevOps edits a ScoringModel with its segment conditions, rule groups and rules in admin. Nothing
changes for leads until the model is published: `publish()` freezes the draft into a ModelVersion
(JSON spec, numbered) and starts a ScoreRun. Every stored score names the version that produced it
(Lead.score_version), so old scores stay explainable after the rules change.
"""

from __future__ import annotations

from typing import Any

import pghistory
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from qualify.leads.models import EventType, Stage

from . import engine

# Lead and account fields a condition can test. The SQL each compiles to lives in sql.FIELD_SQL.
FIELD_CHOICES = [
    ("seniority", "Lead: seniority"),
    ("persona", "Lead: persona"),
    ("department", "Lead: department"),
    ("title", "Lead: title"),
    ("source", "Lead: source"),
    ("campaign", "Lead: campaign"),
    ("email", "Lead: email"),
    ("email_domain", "Lead: email domain"),
    ("account.industry", "Account: industry"),
    ("account.employee_count", "Account: employee count"),
    ("account.revenue_band", "Account: revenue band"),
    ("account.segment", "Account: segment (ICP tier)"),
    ("account.region", "Account: region"),
    ("account.country", "Account: country"),
    ("account.domain", "Account: domain"),
]
FIELD_MAX_LENGTH = 80


def condition_fields() -> list[tuple[str, str]]:
    """FIELD_CHOICES and every active custom property (`lead.properties.<key>`,
    `account.properties.<key>`): the admin's field menu and clean() read it (one query). Not the
    model field's `choices`: system checks would query the database at start-up."""
    from qualify.leads.models import Property

    props = [
        (f"{p.entity}.properties.{p.key}", f"{p.get_entity_display()} property: {p.label}")
        for p in Property.objects.filter(active=True)
    ]
    return FIELD_CHOICES + props


def value_labels(field: str) -> dict[str, str]:
    """What a condition's stored values mean, where its field has choices: seniority's "c_level"
    is "C-level", a country's "DE" Germany. Empty for free text and for custom properties, whose
    choices are their own labels."""
    from qualify.countries import COUNTRY_NAMES
    from qualify.leads.models import Account, Lead

    if field == "account.country":
        return COUNTRY_NAMES
    model, name = (Account, field.removeprefix("account.")) if field.startswith("account.") else (Lead, field)
    try:
        db_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return {}
    return {str(code): str(label) for code, label in db_field.flatchoices if code}


def show_values(value: str, labels: dict[str, str]) -> str:
    """A condition's value ("mid_market, enterprise") in the labels of its codes ("Mid-market,
    Enterprise"); "" when no code of it has a label to show."""
    codes = [c.strip() for c in value.split(",") if c.strip()]
    if not any(c in labels for c in codes):
        return ""
    return ", ".join(labels.get(c, c) for c in codes)


def check_field(name: str) -> None:
    if name not in dict(condition_fields()):
        raise ValidationError({"field": f"Unknown field “{name[:80]}”: pick a field or an active custom property."})


class Op(models.TextChoices):
    EQUALS = "equals", "equals"
    ONE_OF = "one_of", "is one of (comma-separated)"
    RANGE = "range", "is in range (low..high)"
    CONTAINS = "contains", "contains"


class GroupKind(models.TextChoices):
    FIT = engine.FIT, "Fit (firmographic / persona; never decays)"
    ENGAGEMENT = engine.ENGAGEMENT, "Engagement (events; decays)"


def unreachable_total_cap(fit_cap: int | None, engagement_cap: int | None, total_cap: int | None) -> str:
    """Why the total cap can never be reached ('' when it can): fit and engagement are each capped
    and their caps add up to less than the total, so the best leads all tie at that sum. An empty
    cap means no cap, which can reach anything."""
    if total_cap is None or fit_cap is None or engagement_cap is None or fit_cap + engagement_cap >= total_cap:
        return ""
    return (
        f"No lead can score above {fit_cap + engagement_cap}: the fit cap ({fit_cap}) plus the engagement cap "
        f"({engagement_cap}) is less than the total cap ({total_cap}), so every lead that reaches both caps ties "
        f"at {fit_cap + engagement_cap} and the queue cannot rank them. Raise a cap or lower the total cap to "
        f"{fit_cap + engagement_cap}."
    )


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class ScoringModel(models.Model):
    """A scoring model for one segment. Edits are a draft until published."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True, default="")
    priority = models.PositiveIntegerField(
        default=100, help_text="Models are tried in this order (lowest first); the first whose segment matches wins."
    )
    is_default = models.BooleanField(default=False, help_text="Scores every lead no other model covers.")
    active = models.BooleanField(default=True)
    mql_threshold = models.PositiveIntegerField(default=60, help_text="A lead at or above this score becomes an MQL.")
    half_life_days = models.FloatField(default=30, help_text="Engagement points halve every this many days.")
    fit_cap = models.PositiveIntegerField(null=True, blank=True, help_text="Most fit points a lead can have.")
    engagement_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most engagement points counted at any moment (keep it below the threshold "
        "so behaviour alone, without fit, cannot make an MQL; hard triggers still can)."
    )
    total_cap = models.PositiveIntegerField(null=True, blank=True, help_text="Highest possible score.")
    grade_a = models.PositiveIntegerField(default=40, help_text="Fit points for grade A.")
    grade_b = models.PositiveIntegerField(default=25, help_text="Fit points for grade B.")
    grade_c = models.PositiveIntegerField(default=10, help_text="Fit points for grade C (below: D).")
    current_version = models.ForeignKey(
        "ModelVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["is_default", "priority", "name"]
        constraints = [
            # Exactly one model catches every lead no segment covers.
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="scoring_one_default"),
            models.CheckConstraint(condition=Q(half_life_days__gt=0), name="scoring_half_life_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not (self.grade_a >= self.grade_b >= self.grade_c):
            raise ValidationError("Grade thresholds must be A ≥ B ≥ C.")

    def draft_is_published(self) -> bool:
        """The saved draft is exactly the current version: publishing it again would only make a
        copy and recompute every lead for nothing. A few queries (the draft's rules)."""
        v = self.current_version
        return v is not None and self.to_spec_json(v.number) == v.spec

    def to_spec_json(self, number: int, *, inactive_rules: bool = False) -> dict[str, Any]:
        """The draft frozen as plain data: what a version stores and the engine reads. With
        `inactive_rules` the switched-off rules too (the admin counts what they would fire on)."""
        groups = list(self.groups.all())
        rules = self.rules.all() if inactive_rules else self.rules.filter(active=True)
        return {
            "model_id": self.pk,
            "name": self.name,
            "number": number,
            "half_life_days": self.half_life_days,
            "mql_threshold": self.mql_threshold,
            "fit_cap": self.fit_cap,
            "engagement_cap": self.engagement_cap,
            "total_cap": self.total_cap,
            "grade_a": self.grade_a,
            "grade_b": self.grade_b,
            "grade_c": self.grade_c,
            "is_default": self.is_default,
            "priority": self.priority,
            "segment": [{"field": c.field, "op": c.op, "value": c.value} for c in self.conditions.all()],
            "groups": [
                {"key": g.pk, "name": g.name, "kind": g.kind, "cap": g.cap, "window_days": g.window_days}
                for g in groups
            ],
            "rules": [
                {
                    "key": r.pk, "group": r.group_id, "label": r.label, "points": r.points, "field": r.field,
                    "event_type": r.event_type, "prop": r.prop, "op": r.op, "value": r.value, "cap": r.cap,
                    "hard_trigger": r.hard_trigger,
                }
                for r in rules.order_by("position", "pk")
            ],
        }


class SegmentCondition(models.Model):
    """All of a model's conditions must hold for the model to score a lead."""

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="conditions")
    field = models.CharField(max_length=FIELD_MAX_LENGTH, help_text="A lead or account field, or a custom property.")
    op = models.CharField(max_length=16, choices=Op.choices, default=Op.EQUALS)
    value = models.CharField(max_length=500)

    def __str__(self) -> str:
        return f"{self.field} {self.op} {self.value}"

    def clean(self) -> None:
        check_field(self.field)
        try:
            engine.check_condition(self.op, self.value)
        except ValueError as exc:
            raise ValidationError({"value": str(exc)})


class RuleGroup(models.Model):
    """Rules grouped for capping, like HubSpot's score groups: e.g. 'Persona' (fit, cap 25) or
    'Web visits' (engagement, at most 30 points per 7-day window)."""

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=16, choices=GroupKind.choices)
    cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Fit: most positive points from this group. Engagement: per window."
    )
    window_days = models.PositiveIntegerField(default=30, help_text="Engagement: the window caps count in.")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["model", "name"], name="scoring_group_name_unique"),
            models.CheckConstraint(condition=Q(window_days__gte=1), name="scoring_group_window_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display().split(' ')[0]})"


class Rule(models.Model):
    """Points for a fit condition or an engagement event. Negative points subtract."""

    model = models.ForeignKey(ScoringModel, on_delete=models.CASCADE, related_name="rules")
    group = models.ForeignKey(RuleGroup, on_delete=models.CASCADE, related_name="rules")
    label = models.CharField(max_length=200, help_text="Shown in score explanations, e.g. 'Pricing page view'.")
    points = models.IntegerField(help_text="Fit: when the condition holds. Engagement: per occurrence.")
    field = models.CharField(max_length=FIELD_MAX_LENGTH, blank=True, default="", help_text="Fit rules: a lead or account field, or a custom property.")
    event_type = models.CharField(
        max_length=32, choices=EventType.choices, blank=True, default="", help_text="Engagement rules."
    )
    prop = models.CharField(
        "property", max_length=64, blank=True, default="",
        help_text="Engagement: optional event property to test, e.g. page_category.",
    )
    op = models.CharField(max_length=16, choices=Op.choices, default=Op.EQUALS)
    value = models.CharField(max_length=500, blank=True, default="")
    cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Engagement: most points this rule earns per window of its group."
    )
    hard_trigger = models.BooleanField(default=False, help_text="An occurrence makes the lead an MQL at once.")
    active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.label} ({self.points:+d})"

    def clean(self) -> None:
        group = self.group if self.group_id else None
        if group is None:
            return
        if self.model_id and group.model_id != self.model_id:
            raise ValidationError({"group": "Pick a group of this model."})
        if group.kind == engine.FIT:
            if not self.field:
                raise ValidationError({"field": "A fit rule tests a lead or account field."})
            check_field(self.field)
            if self.event_type or self.hard_trigger or self.cap:
                raise ValidationError("Event type, cap and hard trigger are for engagement rules.")
            self._check_value()
        else:
            if not self.event_type:
                raise ValidationError({"event_type": "An engagement rule counts an event type."})
            if self.field:
                raise ValidationError({"field": "Engagement rules test event properties, not lead fields."})
            if self.prop:
                self._check_value()

    def _check_value(self) -> None:
        try:
            engine.check_condition(self.op, self.value)
        except ValueError as exc:
            raise ValidationError({"value": str(exc)})


class ModelVersion(models.Model):
    """A published, immutable snapshot of a model; scores point at the version that made them."""

    model = models.ForeignKey(ScoringModel, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    spec = models.JSONField()
    note = models.CharField(max_length=300, blank=True, default="")
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["model", "-number"]
        constraints = [models.UniqueConstraint(fields=["model", "number"], name="scoring_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.spec.get('name', self.model_id)} v{self.number}"

    def as_spec(self) -> engine.ModelSpec:
        return engine.ModelSpec.from_json(self.pk, self.spec)


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    SUPERSEDED = "superseded", "Superseded by a newer run"


class ScoreRun(models.Model):
    """A full recompute, processed in lead-id batches. `cursor` is the last lead id done, advanced in
    the same transaction as the batch's writes, so a restarted worker resumes where the last commit
    left off and a batch is never applied twice."""

    version = models.ForeignKey(ModelVersion, on_delete=models.PROTECT, related_name="runs")
    state = models.CharField(max_length=16, choices=RunState.choices, default=RunState.QUEUED)
    total = models.PositiveIntegerField(default=0, help_text="Leads in scope when the run started.")
    done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0, help_text="Leads whose stored score changed.")
    mqls = models.PositiveIntegerField(default=0, help_text="Leads this run moved to MQL.")
    cursor = models.BigIntegerField(default=0, help_text="Highest lead id done (any lane).")
    lanes = models.PositiveSmallIntegerField(
        default=1, help_text="Workers sharing the run: lane k rescores the leads with id % lanes = k."
    )
    lane_cursors = models.JSONField(default=dict, blank=True, help_text="Last lead id done, per lane.")
    max_id = models.BigIntegerField(default=0, help_text="Highest lead id in scope at the start.")
    batch_size = models.PositiveIntegerField(default=5000)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lane_beats = models.JSONField(
        default=dict, blank=True,
        help_text="When each lane last committed a batch (or was queued): a lane silent for minutes lost its worker.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # "Is a run in progress?" on the lead page and before publishing.
            models.Index(fields=["state"], name="scorerun_active", condition=Q(state__in=["queued", "running"])),
        ]

    def __str__(self) -> str:
        return f"Recompute {self.version} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        if self.state == RunState.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def is_active(self) -> bool:
        return self.state in (RunState.QUEUED, RunState.RUNNING)


class SnapshotKind(models.TextChoices):
    MQL = "mql", "At MQL"
    HANDOFF = "handoff", "At handoff"
    OUTCOME = "outcome", "At outcome"
    DAILY = "daily", "Daily"


class ScoreSnapshot(models.Model):
    """A lead's score at a moment that matters for calibration ("how did leads scored 70–80
    convert?"). MQL/handoff/outcome rows are written by a trigger on StageChange inserts (every
    path that moves a stage is covered, bulk ones too); daily rows by the beat task."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="score_snapshots")
    version = models.ForeignKey(ModelVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=SnapshotKind.choices)
    stage = models.CharField(max_length=16, blank=True, default="")
    on = models.DateField()
    at = models.DateTimeField(default=timezone.now)
    score = models.IntegerField()
    fit = models.FloatField(default=0)
    engagement = models.FloatField(default=0)
    grade = models.CharField(max_length=1, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-at"], name="snapshot_lead_time"),
            # Calibration: outcome/handoff/MQL snapshots in a score band over a date range.
            models.Index(fields=["kind", "on", "score"], name="snapshot_kind_on_score"),
        ]
        constraints = [
            # The daily beat task may run twice in a day (retries, a second beat): one row per lead per day.
            models.UniqueConstraint(fields=["lead", "on"], condition=Q(kind="daily"), name="snapshot_daily_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} {self.kind} {self.score}"

    @property
    def stage_label(self) -> str:
        """The lead's stage then, as people read it ("Won"); "" when the kind says it already
        ("At MQL", "At handoff")."""
        implied = {SnapshotKind.MQL: Stage.MQL, SnapshotKind.HANDOFF: Stage.HANDED_OFF}
        if not self.stage or implied.get(self.kind) == self.stage:
            return ""
        return Stage(self.stage).label if self.stage in Stage.values else self.stage


class Watermark(models.Model):
    """A named position in a table that a sweep has fully handled. The scoring reconciler keeps
    "every event with an id at or below `position` is counted in its lead's score" here, so each
    run reads only the events after it (see qualify/scoring/reconcile.py)."""

    name = models.CharField(max_length=50, primary_key=True)
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} at {self.position}"
