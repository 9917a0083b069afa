"""Reporting tables derived from the stage history.

LeadFact has one row per lead: its dimensions and the first time it reached each funnel stage,
computed from StageChange (a lead "reached MQL" if it ever had a StageChange to mql or a later
funnel stage), plus its time spent in each stage. FunnelRollup sums LeadFact per cohort day,
team and one dimension; HandoffRollup sums handoffs per day. Dashboards read the rollups, so a
page costs a few index range scans over thousands of rows instead of aggregating millions of
stage changes (see bench/analytics.py). They are derived data: `rollups.refresh()` rebuilds them
(incrementally every few minutes from beat, fully every night), never edited by hand.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

# Funnel stages in order, and the columns each one's time-in-stage fills.
STAGE_TIME_STAGES = ("new", "mql", "working", "handed_off", "accepted", "opportunity")


class LeadFact(models.Model):
    lead_id = models.BigIntegerField(primary_key=True)
    team_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    cohort_day = models.DateField(help_text="created_at as a local date.")
    source = models.CharField(max_length=16, blank=True, default="")
    segment = models.CharField(max_length=16, blank=True, default="")
    persona = models.CharField(max_length=32, blank=True, default="")
    campaign = models.CharField(max_length=200, blank=True, default="")
    sdr_id = models.BigIntegerField(null=True, help_text="Who handed it off, else who worked it, else its owner.")
    ae_id = models.BigIntegerField(null=True, help_text="Its AE, else who accepted it.")
    stage = models.CharField(max_length=16)
    mql_at = models.DateTimeField(null=True)
    handed_off_at = models.DateTimeField(null=True)
    accepted_at = models.DateTimeField(null=True)
    opportunity_at = models.DateTimeField(null=True)
    won_at = models.DateTimeField(null=True)
    lost_at = models.DateTimeField(null=True)
    first_response_at = models.DateTimeField(null=True, help_text="First touch at or after mql_at.")
    # Seconds spent in each stage over the stays that ended (null: never left it).
    t_new = models.FloatField(null=True)
    t_mql = models.FloatField(null=True)
    t_working = models.FloatField(null=True)
    t_handed_off = models.FloatField(null=True)
    t_accepted = models.FloatField(null=True)
    t_opportunity = models.FloatField(null=True)

    class Meta:
        managed = True
        indexes = [
            # Incremental refresh: which (team, day) cells a set of leads belongs to; drill-downs.
            models.Index(fields=["team_id", "cohort_day"], name="leadfact_team_day"),
            # Median days to close: won leads of a cohort range.
            models.Index(fields=["team_id", "cohort_day"], name="leadfact_won_team_day", condition=Q(won_at__isnull=False)),
        ]


class WonDeal(models.Model):
    """The won leads of LeadFact, narrow and packed by (team, cohort day): exact median days to
    close reads a few hundred pages instead of one heap page per won lead scattered over the
    million-row fact table."""

    lead_id = models.BigIntegerField(primary_key=True)
    team_id = models.BigIntegerField()
    cohort_day = models.DateField()
    source = models.CharField(max_length=16, blank=True, default="")
    segment = models.CharField(max_length=16, blank=True, default="")
    persona = models.CharField(max_length=32, blank=True, default="")
    campaign = models.CharField(max_length=200, blank=True, default="")
    sdr_id = models.BigIntegerField(null=True)
    ae_id = models.BigIntegerField(null=True)
    seconds = models.FloatField(help_text="From created to won.")

    class Meta:
        indexes = [
            # Median days to close: WHERE team_id = ANY(?) AND cohort_day BETWEEN ? AND ?.
            models.Index(fields=["team_id", "cohort_day"], name="wondeal_team_day"),
        ]


class Grain(models.TextChoices):
    DAY = "d", "Day"
    MONTH = "m", "Month"


class FunnelRollup(models.Model):
    """LeadFact summed per (cohort day or month, team, dimension, key). dim "all" has key ""."""

    grain = models.CharField(max_length=1, choices=Grain.choices, default=Grain.DAY)
    day = models.DateField(help_text="The day, or the first day of the month for month rows.")
    team_id = models.BigIntegerField()
    dim = models.CharField(max_length=16)
    key = models.CharField(max_length=200, blank=True, default="")
    leads = models.IntegerField(default=0)
    mql = models.IntegerField(default=0)
    handed_off = models.IntegerField(default=0)
    accepted = models.IntegerField(default=0)
    opportunity = models.IntegerField(default=0)
    won = models.IntegerField(default=0)
    lost = models.IntegerField(default=0)
    cycle_sum = models.FloatField(default=0, help_text="Seconds from created to won, summed over won leads.")
    speed_n = models.IntegerField(default=0, help_text="MQLs with a first response.")
    speed_sum = models.FloatField(default=0)
    speed_5m = models.IntegerField(default=0)
    speed_1h = models.IntegerField(default=0)
    speed_1d = models.IntegerField(default=0)
    t_new_n = models.IntegerField(default=0)
    t_new_sum = models.FloatField(default=0)
    t_mql_n = models.IntegerField(default=0)
    t_mql_sum = models.FloatField(default=0)
    t_working_n = models.IntegerField(default=0)
    t_working_sum = models.FloatField(default=0)
    t_handed_off_n = models.IntegerField(default=0)
    t_handed_off_sum = models.FloatField(default=0)
    t_accepted_n = models.IntegerField(default=0)
    t_accepted_sum = models.FloatField(default=0)
    t_opportunity_n = models.IntegerField(default=0)
    t_opportunity_sum = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dim", "team_id", "grain", "day", "key"], name="funnelrollup_cell_unique"),
        ]
        # The unique index (dim, team_id, grain, day, key) serves every dashboard query:
        # WHERE dim=? AND team_id = ANY(?) AND (grain, day range) GROUP BY key; and the delta upserts.


class HandoffRollup(models.Model):
    """Handoffs per (created day or month, team, SDR, source, segment, status, reason)."""

    grain = models.CharField(max_length=1, choices=Grain.choices, default=Grain.DAY)
    day = models.DateField()
    team_id = models.BigIntegerField()
    sdr_id = models.BigIntegerField()
    source = models.CharField(max_length=16, blank=True, default="")
    segment = models.CharField(max_length=16, blank=True, default="")
    status = models.CharField(max_length=16)
    reason_id = models.BigIntegerField(null=True)
    n = models.IntegerField()
    wait_sum = models.FloatField(default=0, help_text="Seconds from handoff to decision, decided ones.")

    class Meta:
        indexes = [
            # Handoff dashboards: WHERE team_id = ANY(?) AND (grain, day range).
            models.Index(fields=["team_id", "grain", "day"], name="handoffrollup_team_grain_day"),
        ]


class RefreshState(models.Model):
    """One row: how far the rollups have read, so the next refresh only redoes what changed."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    stagechange_id = models.BigIntegerField(default=0)
    touch_id = models.BigIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True)
    full_at = models.DateTimeField(null=True)
    last_leads = models.IntegerField(default=0, help_text="Leads recomputed by the last refresh.")
    last_seconds = models.FloatField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="refreshstate_singleton")]
