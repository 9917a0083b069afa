"""Business calendars, SLA policies with escalation ladders, the clocks they start, and the
escalations those clocks produce (their notifications live in qualify.notifications)."""

from __future__ import annotations

import datetime
import zoneinfo
from functools import lru_cache

import holidays
import pghistory
from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from qualify.formatting import show_date, show_datetime
from qualify.leads.models import Segment, Source

from .calendar import MINUTES_PER_DAY, WEEKDAYS, Calendar

# Targets and rungs are walked through the calendar when each clock starts: a typo of 2,147,483,647
# minutes walked it for 50 s and then overflowed the year 9999. A year of minutes is ample.
MAX_MINUTES = 365 * 24 * 60

GRADE_CHOICES = [("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")]


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@lru_cache(maxsize=1)
def holiday_countries() -> dict[str, list[str]]:
    return holidays.list_supported_countries()


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(f"'{value}' is not a time zone name, e.g. America/New_York or Europe/Paris.")


# --- calendars ---------------------------------------------------------------------------------


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class BusinessCalendar(models.Model):
    """Working hours in a time zone, minus public holidays of a country and custom closed dates."""

    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    country = models.CharField(
        max_length=3, blank=True, default="", help_text="Public holidays of this country (ISO code, e.g. US, GB, DE)."
    )
    subdivision = models.CharField(
        max_length=10, blank=True, default="", help_text="State or region for regional holidays, e.g. NY or ENG."
    )
    is_default = models.BooleanField(default=False, help_text="Used by teams that have no calendar of their own.")
    # Bumped whenever hours or closed dates change (admin save_related), so cached specs expire.
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True), name="sla_one_default_calendar"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.subdivision and not self.country:
            raise ValidationError({"subdivision": "Choose the country first."})
        if self.country:
            countries = holiday_countries()
            if self.country not in countries:
                raise ValidationError({"country": f"No public holiday calendar for '{self.country}'."})
            if self.subdivision and self.subdivision not in countries[self.country]:
                raise ValidationError(
                    {"subdivision": f"'{self.subdivision}' is not a subdivision of {self.country}: "
                     + ", ".join(countries[self.country][:30])}
                )

    def spec(self) -> Calendar:
        """The pure calendar for deadline math; cached per process until the row changes."""
        return _spec(self.pk, self.updated_at)


@lru_cache(maxsize=256)
def _spec(calendar_id: int, version: datetime.datetime) -> Calendar:
    cal = BusinessCalendar.objects.get(pk=calendar_id)
    rows = [
        (h.weekday, h.start.hour * 60 + h.start.minute, h.end_minute)
        for h in WorkingHours.objects.filter(calendar_id=calendar_id)
    ]
    custom = frozenset(CalendarHoliday.objects.filter(calendar_id=calendar_id).values_list("date", flat=True))
    public = holidays.country_holidays(cal.country, subdiv=cal.subdivision or None) if cal.country else None

    def is_closed(day: datetime.date) -> bool:
        return day in custom or (public is not None and day in public)

    return Calendar.build(cal.time_zone, rows, is_closed=is_closed)


class WorkingHours(models.Model):
    """One working interval of one weekday, in the calendar's local time. Several per day allowed."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=list(enumerate(WEEKDAYS)))
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "working hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")) | Q(end=datetime.time(0, 0)), name="sla_hours_end_after_start"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="sla_hours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{WEEKDAYS[self.weekday]} {self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def end_minute(self) -> int:
        minutes = self.end.hour * 60 + self.end.minute
        return minutes or MINUTES_PER_DAY

    def clean(self) -> None:
        if self.start is not None and self.end is not None and self.end != datetime.time(0) and self.end <= self.start:
            raise ValidationError(
                {"end": "End must be after start (use 00:00 for midnight; split overnight shifts at midnight)."}
            )


class CalendarHoliday(models.Model):
    """A custom closed date (company holiday) on top of the country's public holidays."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="closed_dates")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="sla_holiday_unique_date")]

    def __str__(self) -> str:
        return f"{show_date(self.date)} {self.name}".strip()


class TeamCalendar(models.Model):
    """Which calendar a team's SLAs count in; teams without one use the default calendar."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, primary_key=True, related_name="sla_calendar")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="team_links")

    def __str__(self) -> str:
        return f"{self.team} uses {self.calendar}"


# --- policies ----------------------------------------------------------------------------------


class ClockKind(models.TextChoices):
    MQL_FIRST_TOUCH = "mql_first_touch", "MQL assigned → first touch"
    HANDOFF_DECISION = "handoff_decision", "Handoff created → accepted or rejected"
    RECYCLED_TOUCH = "recycled_touch", "Recycled lead → touched again"


TOUCH_KINDS = (ClockKind.MQL_FIRST_TOUCH, ClockKind.RECYCLED_TOUCH)


class OnReassign(models.TextChoices):
    KEEP = "keep", "Keep the running clock"
    RESTART = "restart", "Restart the clock for the new owner"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent())
class SlaPolicy(models.Model):
    """Which clock to start for which leads, its target in business time, and what happens late.

    For each kind of clock, active policies are tried by position; the first whose conditions
    all match wins, and the kind's default policy catches the rest.
    """

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=24, choices=ClockKind.choices)
    position = models.PositiveIntegerField(default=100, help_text="Lower positions are tried first.")
    active = models.BooleanField(default=True)
    is_default = models.BooleanField(default=False, help_text="Catches leads no other policy of this kind matches.")

    team = models.ForeignKey("accounts.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                             help_text="Blank: any team.")
    segment = models.CharField(max_length=16, choices=Segment.choices, blank=True, default="", help_text="Blank: any.")
    source = models.CharField(max_length=16, choices=Source.choices, blank=True, default="", help_text="Blank: any.")
    grade = models.CharField(
        max_length=1, choices=GRADE_CHOICES, blank=True, default="",
        help_text="Fit grade from scoring. Blank: any. Leads without a grade match only 'any'.",
    )

    calendar = models.ForeignKey(
        BusinessCalendar, null=True, blank=True, on_delete=models.PROTECT, related_name="policies",
        help_text="Blank: the lead's team calendar, else the default calendar.",
    )
    target_minutes = models.PositiveIntegerField(
        validators=[MaxValueValidator(MAX_MINUTES)], help_text="Target in business minutes (60 = one business hour)."
    )
    warn_at_percent = models.PositiveSmallIntegerField(
        default=75, help_text="Warn the owner when this share of the target has elapsed."
    )
    on_reassign = models.CharField(max_length=8, choices=OnReassign.choices, default=OnReassign.KEEP)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "is_default", "position", "id"]
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policies"
        constraints = [
            models.UniqueConstraint(
                fields=["kind"], condition=Q(is_default=True, active=True), name="sla_policy_one_default_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(is_default=False) | Q(team__isnull=True, segment="", source="", grade=""),
                name="sla_policy_default_has_no_conditions",
            ),
            models.CheckConstraint(condition=Q(target_minutes__gt=0), name="sla_policy_target_positive"),
            models.CheckConstraint(
                condition=Q(warn_at_percent__gte=1, warn_at_percent__lte=99), name="sla_policy_warn_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.is_default and (self.team_id or self.segment or self.source or self.grade):
            raise ValidationError("A default policy catches every lead: leave team, segment, source and grade blank.")

    def matches(self, *, team_id: int | None, segment: str, source: str, grade: str) -> bool:
        """Blank conditions match anything; a set grade never matches a lead without a grade."""
        return (
            (self.team_id is None or self.team_id == team_id)
            and (not self.segment or self.segment == segment)
            and (not self.source or self.source == source)
            and (not self.grade or self.grade == grade)
        )

    @property
    def target(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.target_minutes)


class EscalationAction(models.TextChoices):
    NOTIFY = "notify", "Notify the owner and the team's managers"
    NOTIFY_MANAGERS = "notify_managers", "Notify the team's managers"
    REASSIGN = "reassign", "Reassign through routing"
    RETURN_TO_POOL = "return_to_pool", "Return the lead to the team's pool"


OWNERSHIP_ACTIONS = (EscalationAction.REASSIGN, EscalationAction.RETURN_TO_POOL)


class EscalationStep(models.Model):
    """One rung of a policy's ladder: `action`, `after_minutes` business minutes past the due time."""

    policy = models.ForeignKey(SlaPolicy, on_delete=models.CASCADE, related_name="steps")
    after_minutes = models.PositiveIntegerField(
        default=0, validators=[MaxValueValidator(MAX_MINUTES)], help_text="Business minutes after the breach; 0 = at breach."
    )
    action = models.CharField(max_length=16, choices=EscalationAction.choices)

    class Meta:
        ordering = ["after_minutes", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "after_minutes", "action"], name="sla_step_unique"),
        ]

    def __str__(self) -> str:
        when = "at breach" if not self.after_minutes else f"{self.after_minutes} business min after breach"
        return f"{self.get_action_display()} {when}"

    def clean(self) -> None:
        if self.action in OWNERSHIP_ACTIONS and self.policy_id and self.policy.kind == ClockKind.HANDOFF_DECISION:
            raise ValidationError(
                {"action": "A handoff waits for its AE's decision: handoff policies can notify, not reassign."}
            )


# --- clocks ------------------------------------------------------------------------------------


class ClockStatus(models.TextChoices):
    OPEN = "open", "Running"
    MET = "met", "Met"
    LATE = "late", "Met late"
    CANCELLED = "cancelled", "No longer applies"


class StepKind(models.TextChoices):
    WARNING = "warning", "Warning"
    BREACH = "breach", "Breach"
    NOTIFY = "notify", "Notified owner and managers"
    NOTIFY_MANAGERS = "notify_managers", "Notified managers"
    REASSIGN = "reassign", "Reassigned"
    RETURN_TO_POOL = "return_to_pool", "Returned to pool"


class Clock(models.Model):
    """One SLA clock on one lead: started by an event, stopped by the right action.

    The whole schedule is computed when the clock starts (`plan`: warning, breach, then each rung
    of the ladder at its business-time instant), so the sweep never needs calendar math. What the
    sweep walks is ClockSchedule, a narrow row per clock that still has a step to take.
    """

    # Foreign keys without an index of their own: lookups by lead, team and handoff use the
    # composite and partial indexes below; policy, calendar and people are looked up only when one
    # of those (rare) rows is deleted. No index covers breached_at, so the sweep's breach update can
    # stay on the row's page (HOT, see the fillfactor in migration 0004) without touching an index.
    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="sla_clocks", db_index=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+", db_index=False)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="clocks", db_index=False)
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="clocks", db_index=False)
    kind = models.CharField(max_length=24, choices=ClockKind.choices)
    handoff = models.ForeignKey(
        "handoff.Handoff", null=True, blank=True, on_delete=models.CASCADE, related_name="sla_clocks", db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="sla_clocks",
        help_text="Who must act: the SDR for touch clocks, the AE for handoff clocks.", db_index=False,
    )
    started_at = models.DateTimeField()
    warn_at = models.DateTimeField()
    due_at = models.DateTimeField()
    # [[kind, iso instant], ...]; index = step number. 0 warning, 1 breach, 2.. the ladder.
    plan = models.JSONField(default=list)

    status = models.CharField(max_length=10, choices=ClockStatus.choices, default=ClockStatus.OPEN)
    breached_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    closed_note = models.CharField(max_length=200, blank=True, default="", help_text="What stopped it.")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            # One running clock of each kind per lead: a double start cannot create a second one.
            # Its index also serves every "running clocks of these leads" lookup: queue badges and
            # the queue's breached / at-risk filters (EXISTS ... WHERE lead_id = ? AND status = 'open').
            models.UniqueConstraint(fields=["lead", "kind"], condition=Q(status="open"), name="sla_clock_one_open_per_kind"),
        ]
        indexes = [
            # The lead page: a lead's clocks, newest first.
            models.Index(fields=["lead", "-started_at"], name="sla_clock_lead"),
            # Handoff inbox badges: WHERE handoff_id IN (...).
            models.Index(fields=["handoff"], name="sla_clock_handoff", condition=Q(handoff__isnull=False)),
            # Manager breach page: a team's running clocks past due (WHERE team_id IN .. AND due_at <= now).
            models.Index(fields=["team", "due_at"], name="sla_clock_team_open_due", condition=Q(status="open")),
            # The queue's "SLA due" sort (lead_sla_due below): running clocks in (due_at, id) order, so
            # a page reads the first clocks (or seeks its cursor) and looks their leads up instead of
            # sorting every lead in scope. Clock rows only; the sweep's breach update stays HOT.
            models.Index(fields=["due_at", "id"], name="sla_clock_open_due", condition=Q(status="open")),
            # Manager breach page, compliance table: a team's clocks started in the period.
            models.Index(fields=["team", "started_at"], name="sla_clock_team_started"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.lead_id} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status == ClockStatus.OPEN

    @property
    def is_breached(self) -> bool:
        return self.breached_at is not None or (self.is_open and self.due_at <= timezone.now())

    @property
    def is_warning(self) -> bool:
        return self.is_open and not self.is_breached and self.warn_at <= timezone.now()

    @property
    def remaining(self) -> datetime.timedelta:
        return self.due_at - timezone.now()

    @property
    def overdue(self) -> datetime.timedelta:
        return timezone.now() - self.due_at

    def steps(self) -> list[tuple[str, datetime.datetime]]:
        return [(kind, datetime.datetime.fromisoformat(at)) for kind, at in self.plan]


class ClockSchedule(models.Model):
    """The next step of a running clock: one narrow row per clock that still has a step to take.

    The sweep claims and advances these rows instead of the wide clock rows, so its updates write
    a few dozen bytes and two indexes; a row is deleted when its clock stops or its ladder ends, so
    the table holds only work still to come. Lock order, everywhere: schedule row, then clock row.
    """

    clock = models.OneToOneField(Clock, on_delete=models.CASCADE, primary_key=True, related_name="schedule")
    next_step = models.PositiveSmallIntegerField(default=0)
    next_action_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The sweep: WHERE next_action_at <= now ORDER BY next_action_at LIMIT n FOR UPDATE SKIP
            # LOCKED. A range scan over the due entries only: its cost does not grow with the
            # clocks that are not due.
            models.Index(fields=["next_action_at"], name="sla_schedule_due"),
        ]

    def __str__(self) -> str:
        return f"clock {self.clock_id}: step {self.next_step} at {show_datetime(self.next_action_at)}"


# The detail shown for a step that a later step of the same sweep replaced (sweep.py): an ownership
# step passed by a further one, or a warning whose breach came in the same sweep. Escalation.superseded_by
# records the fact.
SUPERSEDED = "Superseded by a later step in the same sweep."


class Escalation(models.Model):
    """A warning, breach or escalation step that happened, once per (clock, step)."""

    # Written by the sweep in bulk, so no database-level foreign keys: a constraint check would
    # take a KEY SHARE lock on (and so write to) each referenced row, thousands per batch. The sweep
    # only records steps of clocks it has just read, and Django cascades deletes from Clock itself
    # (through sla_escalation_once, whose first column is the clock).
    clock = models.ForeignKey(Clock, on_delete=models.CASCADE, related_name="escalations", db_index=False,
                              db_constraint=False)
    step = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=StepKind.choices)
    # A copy of clock.lead for reports; the row goes away with its clock, so no constraint of its own.
    lead = models.ForeignKey("leads.Lead", on_delete=models.DO_NOTHING, related_name="+", db_index=False,
                             db_constraint=False)
    team = models.ForeignKey("accounts.Team", on_delete=models.CASCADE, related_name="+", db_index=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              help_text="The clock's owner when the step ran.", db_index=False)
    scheduled_at = models.DateTimeField()
    at = models.DateTimeField(default=timezone.now)
    detail = models.CharField(max_length=300, blank=True, default="")
    # Set by the sweep on a step it went past: the later step of the same clock and sweep that acted
    # instead (the ownership step that changed the owner, the breach that came with a warning). Both rows are the clock's and go with it, so no constraint.
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+",
                                      db_index=False, db_constraint=False,
                                      help_text="The later step of the same sweep that acted instead of this one.")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            # Once-only: the sweep inserts with ON CONFLICT DO NOTHING and acts only on rows it inserted.
            models.UniqueConstraint(fields=["clock", "step"], name="sla_escalation_once"),
        ]
        indexes = [
            # Manager page: a team's escalations, latest first.
            models.Index(fields=["team", "-at"], name="sla_escalation_team_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (step {self.step}) on clock {self.clock_id}"

    @property
    def superseded(self) -> bool:
        """A step the same sweep went past (an ownership step when it returned the lead to the pool
        instead, a warning when the breach came too): recorded so the ladder shows every rung
        reached, but nothing happened and nobody was told."""
        return self.superseded_by_id is not None


def leads_with_clocks(leads: models.QuerySet, state: str, *, teams: set[int] | None = None,
                      own: bool = False) -> models.QuerySet:
    """Leads with a running clock past due ('breached'), past its warning ('at_risk'), or any ('running').

    `id = ANY(ARRAY(<the clocks in that state>))`: the running clocks in a state are few (1,800
    at risk and 3,700 breached among 1,000,000 leads in bench/queue.py), so Postgres collects them
    once and looks their leads up by id. An EXISTS per lead let it walk a manager's whole team in
    score order probing each lead for a clock: 46-115 ms a page against 12-18 ms. "Past due" is
    judged now, so a breach shows before the next sweep has recorded it. `teams` (the teams every
    lead of `leads` belongs to, when the caller knows them) keeps other teams' clocks out of the
    array: a manager's breached page 21 ms against 11. `own` (an SDR's or AE's own leads, a few
    thousand): a plain semi-join instead, which Postgres answers by scanning the owner's queue
    index and hashing the clocks; looking up every breached clock's lead by id to keep the 63
    that are the SDR's took 21-48 ms at 1M leads, the semi-join 10.
    """
    now = timezone.now()
    running = Clock.objects.filter(status=ClockStatus.OPEN)
    if teams is not None:
        running = running.filter(team_id__in=teams)
    if state == "breached":
        running = running.filter(due_at__lte=now)
    elif state == "at_risk":
        running = running.filter(warn_at__lte=now, due_at__gt=now)
    elif state != "running":  # every running clock: the SLA-due sort's count (leads.queue.Sort.count_by)
        raise ValueError(f"unknown SLA state {state!r}")
    if own:
        return leads.filter(pk__in=running.order_by().values("lead_id"))
    # order_by(): the clocks' default ordering would sort the array for nothing (3.8 ms for 3,800).
    ids = ArraySubquery(running.order_by().values("lead_id"))
    return leads.filter(models.Func(models.F("pk"), ids, arg_joiner=" = ANY(", template="(%(expressions)s))",
                                    output_field=models.BooleanField()))


def lead_sla_due() -> tuple[models.F, Q, models.F]:
    """The queue's "SLA due" sort (leads.panels.QUEUE_SORT_KEYS): when the lead's soonest running
    clock falls due, for the leads that have one.

    A join to the running clocks, keeping for each lead only its soonest (due_at, id), so no lead
    appears twice. Running clocks are few next to leads (MQLs awaiting a first touch, handoffs
    awaiting a decision: 14,000 against 1,000,000 leads in bench/queue.py), so Postgres reads
    them in (due_at, id) order from sla_clock_open_due and looks each lead up by id until the page
    is full. Ordering by a correlated subquery instead computed it for every lead in scope: 1.3 s
    for a manager's team."""
    sooner = Clock.objects.filter(
        lead_id=models.OuterRef("pk"), status=ClockStatus.OPEN,
    ).filter(
        Q(due_at__lt=models.OuterRef("sla_clocks__due_at"))
        | Q(due_at=models.OuterRef("sla_clocks__due_at"), id__lt=models.OuterRef("sla_clocks__id"))
    )
    # Ties break on the clock's id (one clock a lead here): a deep page's cursor (due_at, clock id)
    # then seeks sla_clock_open_due instead of walking the clocks from the soonest (38 ms 95 % down
    # a manager's team at 1M leads). Not the clock's lead_id: Django reads that as the lead's id.
    return (models.F("sla_clocks__due_at"), Q(sla_clocks__status=ClockStatus.OPEN) & ~Q(models.Exists(sooner)),
            models.F("sla_clocks__id"))
