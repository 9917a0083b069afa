"""Starting, stopping and re-owning SLA clocks: the only code that writes Clock rows (besides the
sweep, which only advances them).

Hooks call in here from the lead lifecycle (stage changes, recycling), touches, handoffs and
assignment. A clock's whole schedule (warning, due, each escalation rung) is computed at start
in business time, so nothing later needs the calendar.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, Exists, F, Func, JSONField, OuterRef, Q, Value, When
from django.utils import timezone

from qualify.leads.models import SDR_STAGES, Lead, Stage
from qualify.lookups import looked_up, reused_lookups

from .calendar import Calendar, add_business_time
from .models import (
    BusinessCalendar,
    Clock,
    ClockKind,
    ClockSchedule,
    EscalationStep,
    ClockStatus,
    OnReassign,
    SlaPolicy,
    StepKind,
    TeamCalendar,
    TOUCH_KINDS,
)

if TYPE_CHECKING:
    from accounts.models import User
    from qualify.handoff.models import Handoff


# --- choosing a policy and a calendar ----------------------------------------------------------


def lead_grade(lead: Lead) -> str:
    """The lead's fit grade from scoring ('' when it has none yet)."""
    return getattr(lead, "fit_grade", "") or ""


def choose_policy(policies: Iterable[SlaPolicy], *, team_id: int | None, segment: str, source: str, grade: str) -> SlaPolicy | None:
    """First matching non-default policy by position, else the default. Pure: policies are given."""
    ordered = sorted(policies, key=lambda p: (p.is_default, p.position, p.pk or 0))
    for policy in ordered:
        if policy.active and (policy.is_default or policy.matches(team_id=team_id, segment=segment, source=source, grade=grade)):
            return policy
    return None


def policy_for(lead: Lead, kind: str) -> SlaPolicy | None:
    """One query: the active policies of `kind`, each with its ladder as (after_minutes, action)
    pairs (`policy.ladder`); the lead's account must be loaded (segment)."""
    policies = looked_up(("policies", kind), lambda: _active_policies(kind))
    return choose_policy(
        policies, team_id=lead.team_id, segment=lead.account.segment, source=lead.source, grade=lead_grade(lead)
    )


def _active_policies(kind: str) -> list[SlaPolicy]:
    steps = (
        EscalationStep.objects.filter(policy=OuterRef("pk")).order_by("after_minutes", "id")
        .annotate(pair=Func(F("after_minutes"), F("action"), function="jsonb_build_array", output_field=JSONField()))
        .values("pair")
    )
    return list(SlaPolicy.objects.filter(kind=kind, active=True).annotate(ladder=ArraySubquery(steps)))


def calendar_for(team_id: int, policy: SlaPolicy) -> BusinessCalendar:
    """The policy's own calendar, else the team's, else the default one. One query."""
    if policy.calendar_id:
        return looked_up(("calendar", policy.calendar_id), lambda: policy.calendar)
    found = looked_up(
        ("team calendar", team_id),
        lambda: BusinessCalendar.objects.filter(Q(team_links__team_id=team_id) | Q(is_default=True))
        .annotate(is_team=Exists(TeamCalendar.objects.filter(team_id=team_id, calendar=OuterRef("pk"))))
        .order_by("-is_team")
        .first(),
    )
    if found is None:
        raise BusinessCalendar.DoesNotExist("No default business calendar: create one in admin and tick 'is default'.")
    return found


def build_plan(
    policy: SlaPolicy, cal: Calendar, started_at: datetime.datetime
) -> tuple[datetime.datetime, datetime.datetime, list[list[str]]]:
    """(warn_at, due_at, plan) for a clock starting at `started_at`. Pure but for policy.steps.

    Step 0 warns, step 1 records the breach, each later step is a ladder rung at its
    business-time offset from the due time. Costs one calendar walk per step.
    """
    due = add_business_time(cal, started_at, policy.target)
    warn = add_business_time(cal, started_at, policy.target * policy.warn_at_percent / 100)
    plan = [[StepKind.WARNING.value, warn.isoformat()], [StepKind.BREACH.value, due.isoformat()]]
    ladder = getattr(policy, "ladder", None)
    if ladder is None:  # a policy loaded without policy_for's annotation
        ladder = [(s.after_minutes, s.action) for s in sorted(policy.steps.all(), key=lambda s: (s.after_minutes, s.pk or 0))]
    for after_minutes, action in ladder:
        at = add_business_time(cal, due, datetime.timedelta(minutes=after_minutes))
        plan.append([action, at.isoformat()])
    return warn, due, plan


# --- starting ----------------------------------------------------------------------------------


def start_clock(
    lead: Lead,
    kind: str,
    *,
    owner_id: int | None,
    handoff: Handoff | None = None,
    at: datetime.datetime | None = None,
) -> Clock | None:
    """Start a `kind` clock on `lead` unless one is already running; None when no policy applies.

    A concurrent start of the same kind loses on the sla_clock_one_open_per_kind constraint and
    returns the running clock instead. Costs about four queries (policies, calendar, insert).
    """
    clock = _new_clock(lead, kind, owner_id=owner_id, handoff=handoff, at=at)
    if clock is None:
        return None
    if _insert_unless_running([clock]):
        return clock
    return Clock.objects.filter(lead_id=lead.pk, kind=kind, status=ClockStatus.OPEN).first()


def start_touch_clocks(leads: Iterable[Lead], kind: str) -> list[Clock]:
    """start_touch_clock for many leads at once (a batch of new MQLs): one INSERT for them all.
    Returns the clocks started (not those already running, nor leads no policy covers)."""
    clocks = [c for lead in leads if (c := _new_clock(lead, kind, owner_id=lead.owner_id)) is not None]
    return _insert_unless_running(clocks)


def _new_clock(
    lead: Lead, kind: str, *, owner_id: int | None, handoff: Handoff | None = None, at: datetime.datetime | None = None
) -> Clock | None:
    """The unsaved clock with its whole schedule, or None when no policy applies."""
    policy = policy_for(lead, kind)
    if policy is None:
        return None
    calendar = calendar_for(lead.team_id, policy)
    started = at or timezone.now()
    warn, due, plan = build_plan(policy, calendar.spec(), started)
    return Clock(
        lead_id=lead.pk, team_id=lead.team_id, policy=policy, calendar=calendar, kind=kind, handoff=handoff,
        owner_id=owner_id, started_at=started, warn_at=warn, due_at=due, plan=plan,
    )


def _insert_unless_running(clocks: list[Clock]) -> list[Clock]:
    """The clocks and their schedule rows (first action: the warning) in one statement: INSERT ...
    ON CONFLICT DO NOTHING against sla_clock_one_open_per_kind (no savepoint; a concurrent start
    of the same clock simply loses), then a schedule row for each clock inserted. Returns the
    clocks inserted, with their pks set."""
    if not clocks:
        return []
    fields = [f for f in Clock._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    values = [f.get_db_prep_save(getattr(clock, f.attname), connection) for clock in clocks for f in fields]
    sql = (
        f"WITH c AS (INSERT INTO {Clock._meta.db_table} ({columns}) VALUES {', '.join([row] * len(clocks))} "
        "ON CONFLICT (lead_id, kind) WHERE status = 'open' DO NOTHING RETURNING id, lead_id, kind, warn_at)"
        f", s AS (INSERT INTO {ClockSchedule._meta.db_table} (clock_id, next_step, next_action_at) "
        "SELECT id, 0, warn_at FROM c) SELECT lead_id, kind, id FROM c"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        inserted = {(lead_id, kind): pk for lead_id, kind, pk in cursor.fetchall()}
    started = []
    for clock in clocks:
        if (key := (clock.lead_id, clock.kind)) in inserted:
            clock.pk = inserted[key]
            clock._state.adding = False
            started.append(clock)
    return started


def _lead(lead_or_id: Lead | int) -> Lead:
    if isinstance(lead_or_id, Lead):
        return lead_or_id
    return Lead.objects.select_related("account").get(pk=lead_or_id)


def start_touch_clock(lead: Lead, kind: str) -> Clock | None:
    """A touch clock is owned by the lead's current owner (None while it sits in the pool)."""
    return start_clock(lead, kind, owner_id=lead.owner_id)


def start_handoff_clock(handoff: Handoff) -> Clock | None:
    """Called by hand_off in its transaction: the AE's accept-or-reject clock."""
    lead = Lead.objects.select_related("account").get(pk=handoff.lead_id)
    return start_clock(lead, ClockKind.HANDOFF_DECISION, owner_id=handoff.to_user_id, handoff=handoff, at=handoff.created_at)


# --- stopping ----------------------------------------------------------------------------------


def _unschedule(running) -> None:
    """Drop the schedule rows of `running` clocks first: the sweep locks schedule rows before clock
    rows, and taking them in the same order means the two can never deadlock."""
    ClockSchedule.objects.filter(clock__in=running).delete()


def _close(qs, *, at: datetime.datetime, by_id: int | None, note: str) -> int:
    """Stop open clocks: met when `at` is on time, late otherwise. Two statements."""
    running = qs.filter(status=ClockStatus.OPEN)
    _unschedule(running)
    return running.update(
        status=Case(When(due_at__gte=at, then=Value(ClockStatus.MET)), default=Value(ClockStatus.LATE)),
        closed_at=at, closed_by_id=by_id, closed_note=note[:200],
    )


def stop_touch_clocks(lead_id: int, *, at: datetime.datetime, by: User | None, note: str) -> int:
    """A logged touch stops the lead's running touch clocks that started before it. Two queries.

    A touch dated before a clock started (logged late for an earlier call) does not stop it.
    """
    qs = Clock.objects.filter(lead_id=lead_id, kind__in=TOUCH_KINDS, started_at__lte=at)
    return _close(qs, at=at, by_id=by.pk if by else None, note=note)


def stop_handoff_clock(handoff: Handoff, *, by: User | None, note: str, at: datetime.datetime | None = None) -> int:
    """The AE's accept or reject stops the handoff's clock. Two queries."""
    qs = Clock.objects.filter(handoff_id=handoff.pk, kind=ClockKind.HANDOFF_DECISION)
    return _close(qs, at=at or timezone.now(), by_id=by.pk if by else None, note=note)


def cancel_clocks(lead_id: int, kinds: Iterable[str], *, note: str, by_id: int | None = None) -> int:
    """The SLA no longer applies (the lead left the stage it measures); not counted as met or missed."""
    running = Clock.objects.filter(lead_id=lead_id, kind__in=list(kinds), status=ClockStatus.OPEN)
    _unschedule(running)
    return running.update(
        status=ClockStatus.CANCELLED, closed_at=timezone.now(), closed_by_id=by_id, closed_note=note[:200],
    )


# --- hooks -------------------------------------------------------------------------------------


def owner_changed(
    lead_id: int, old_owner_id: int | None, new_owner_id: int | None, *, by_id: int | None = None, lead: Lead | None = None
) -> None:
    """Called by assignment in its transaction after the owner changed.

    Running touch clocks follow their policy: `keep` hands the clock to the new owner, `restart`
    cancels it and starts a fresh one for them (returning a lead to the pool always keeps it). A
    lead in MQL that gets its first owner starts its first-touch clock.
    """
    if old_owner_id == new_owner_id:
        return
    if lead is not None and "account" not in lead._state.fields_cache:
        lead = None  # need the account (segment) to choose a policy: load it below
    open_clocks = Clock.objects.filter(lead_id=lead_id, kind__in=TOUCH_KINDS, status=ClockStatus.OPEN)
    running = []
    # Most owner changes (a new MQL routed) find no running clock: one query then. Otherwise lock
    # schedule rows before clock rows, the sweep's lock order.
    if open_clocks.exists():
        list(ClockSchedule.objects.select_for_update().filter(clock__in=open_clocks).values_list("pk", flat=True))
        running = list(open_clocks.select_for_update(of=("self",)).select_related("policy"))
    for clock in running:
        if clock.policy.on_reassign == OnReassign.RESTART and new_owner_id is not None:
            ClockSchedule.objects.filter(clock_id=clock.pk).delete()
            Clock.objects.filter(pk=clock.pk).update(
                status=ClockStatus.CANCELLED, closed_at=timezone.now(), closed_by_id=by_id,
                closed_note="Restarted: the lead was reassigned",
            )
            lead = lead or _lead(lead_id)
            start_clock(lead, clock.kind, owner_id=new_owner_id)
        else:
            Clock.objects.filter(pk=clock.pk).update(owner_id=new_owner_id)
    if not running and new_owner_id is not None:
        lead = lead or _lead(lead_id)
        if lead.stage == Stage.MQL:
            start_clock(lead, ClockKind.MQL_FIRST_TOUCH, owner_id=new_owner_id)


def stages_changed(moved: dict[int, str], to_stage: str, by_id: int | None) -> None:
    """After stage changes commit (lifecycle's on_commit), for leads that moved from
    `moved[lead_id]` to `to_stage`: start, cancel, route.

    - into MQL: route it when it has no owner (routing's assignment starts the clock) or when a
      rule says so; otherwise start the first-touch clock for its owner;
    - out of Nurture into an SDR stage: a recycled lead, start the touch-again clock;
    - out of the SDR stages: its touch clocks no longer apply.

    One transaction and one lock query for the batch; rules, policies and calendars are read once,
    and the first-touch clocks of owned new MQLs start in one INSERT.
    """
    from qualify.routing.engine import route_new_mql

    with transaction.atomic(), reused_lookups():
        leads = Lead.objects.select_for_update(of=("self",)).select_related("account").filter(pk__in=list(moved))
        first_touch: list[Lead] = []  # the last step for these: their clocks start together
        for lead in leads.order_by("pk"):
            from_stage = moved[lead.pk]
            if lead.stage != to_stage:
                continue  # moved on again since: the later change has its own hook
            if to_stage not in SDR_STAGES:
                cancel_clocks(lead.pk, TOUCH_KINDS, note=f"Lead moved to {Stage(to_stage).label}", by_id=by_id)
                continue
            if from_stage == Stage.NURTURE:
                start_touch_clock(lead, ClockKind.RECYCLED_TOUCH)
            if to_stage == Stage.MQL:
                routed = route_new_mql(lead, locked=True)
                if not routed and lead.owner_id and from_stage != Stage.NURTURE:
                    first_touch.append(lead)
        start_touch_clocks(first_touch, ClockKind.MQL_FIRST_TOUCH)


def leads_recycled(lead_ids: list[int]) -> int:
    """After the bulk recycle sweep commits: a touch-again clock for each lead still in Working."""
    with reused_lookups():
        leads = Lead.objects.select_related("account").filter(pk__in=lead_ids, stage=Stage.WORKING)
        return len(start_touch_clocks(leads, ClockKind.RECYCLED_TOUCH))
