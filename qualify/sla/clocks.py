"""Starting, stopping and re-owning SLA clocks: the only code that writes Clock rows (besides the
sweep, which only advances them).

The lead core and the handoff workflow publish their changes (qualify.leads.changes); the
functions at the end of this module are the SLA app's listeners (registered in listeners.py). A clock's whole schedule (warning, due, each escalation rung) is computed at start
in business time, so nothing later needs the calendar.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable

from django.db import connection, transaction
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Case, Exists, F, Func, JSONField, OuterRef, Q, Value, When
from django.utils import timezone

from qualify.leads.changes import HandoffChanged, OwnerChanged, StageChanged, Touched, by_lead
from qualify.leads.models import SDR_STAGES, Lead, Stage
from qualify.lookups import looked_up, reused_lookups

from .calendar import Calendar, NoBusinessTime, add_business_time
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

log = logging.getLogger(__name__)


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


# What choosing a policy and starting a clock read of a lead: loading only these keeps a batch
# of 250 leads from building 250 full lead and account rows in each listener.
CLOCK_FIELDS = ("id", "team_id", "owner_id", "stage", "source", "fit_grade", "account__segment")


def clock_leads(qs):
    """`qs` narrowed to what clocks read (CLOCK_FIELDS), with the account joined."""
    return qs.select_related("account").only(*CLOCK_FIELDS)


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
    handoff_id: int | None = None,
    at: datetime.datetime | None = None,
) -> Clock | None:
    """Start a `kind` clock on `lead` unless one is already running; None when no policy applies.

    A concurrent start of the same kind loses on the sla_clock_one_open_per_kind constraint and
    returns the running clock instead. Costs about four queries (policies, calendar, insert).
    """
    clock = _new_clock(lead, kind, owner_id=owner_id, handoff_id=handoff_id, at=at)
    if clock is None:
        return None
    if _insert_unless_running([clock]):
        return clock
    return Clock.objects.filter(lead_id=lead.pk, kind=kind, status=ClockStatus.OPEN).first()


def start_touch_clocks(leads: Iterable[Lead], kind: str) -> list[Clock]:
    """Start a `kind` touch clock, owned by each lead's owner, for many leads at once: one INSERT.
    They start at the same moment, so leads under the same policy and calendar share one computed
    schedule (the calendar walks are most of a batch's Python time). Returns the clocks started
    (not those already running, nor leads no policy covers)."""
    now, plans = timezone.now(), {}
    clocks = [c for lead in leads if (c := _new_clock(lead, kind, owner_id=lead.owner_id, at=now, plans=plans)) is not None]
    return _insert_unless_running(clocks)


def _new_clock(
    lead: Lead, kind: str, *, owner_id: int | None, handoff_id: int | None = None, at: datetime.datetime | None = None,
    plans: dict | None = None,
) -> Clock | None:
    """The unsaved clock with its whole schedule, or None when no policy applies or its calendar
    has no working time ahead. `plans` memoises schedules by (policy, calendar, start) across a batch.

    A calendar saved without hours (or closed every day) cannot give a deadline; raising here
    failed the change that starts the clock (a hand-off, an assignment) inside its transaction,
    so the lead goes without a clock and the misconfiguration is logged instead."""
    policy = policy_for(lead, kind)
    if policy is None:
        return None
    calendar = calendar_for(lead.team_id, policy)
    started = at or timezone.now()
    plans = {} if plans is None else plans
    key = (policy.pk, calendar.pk, started)
    if key not in plans:
        try:
            plans[key] = build_plan(policy, calendar.spec(), started)
        except NoBusinessTime as e:
            log.error("No %s clock for lead %s: calendar %r: %s", kind, lead.pk, calendar.name, e)
            plans[key] = None
    if plans[key] is None:
        return None
    warn, due, plan = plans[key]
    return Clock(
        lead_id=lead.pk, team_id=lead.team_id, policy=policy, calendar=calendar, kind=kind, handoff_id=handoff_id,
        owner_id=owner_id, started_at=started, warn_at=warn, due_at=due, plan=plan,
    )


def _insert_unless_running(clocks: list[Clock]) -> list[Clock]:
    """The clocks and their schedule rows (first action: the warning) in one statement: INSERT ...
    ON CONFLICT DO NOTHING against sla_clock_one_open_per_kind (no savepoint; a concurrent start
    of the same clock simply loses), then a schedule row for each clock inserted. Returns the
    clocks inserted, with their pks set. The rows travel as one array per column (UNNEST), so a
    batch of 250 clocks is 13 parameters, not 3,250 for the driver to splice into the SQL text."""
    if not clocks:
        return []
    fields = [f for f in Clock._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    values = [[f.get_db_prep_save(getattr(clock, f.attname), connection) for clock in clocks] for f in fields]
    sql = (
        f"WITH c AS (INSERT INTO {Clock._meta.db_table} ({columns}) SELECT * FROM UNNEST({arrays}) "
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


# --- stopping ----------------------------------------------------------------------------------


def unschedule(running) -> None:
    """Drop the schedule rows of `running` clocks first: the sweep locks schedule rows before clock
    rows, and taking them in the same order means the two can never deadlock."""
    ClockSchedule.objects.filter(clock__in=running).delete()


def _close(qs, *, at: datetime.datetime, by_id: int | None, note: str) -> int:
    """Stop open clocks: met when `at` is on time, late otherwise. Two statements."""
    running = qs.filter(status=ClockStatus.OPEN)
    unschedule(running)
    return running.update(
        status=Case(When(due_at__gte=at, then=Value(ClockStatus.MET)), default=Value(ClockStatus.LATE)),
        closed_at=at, closed_by_id=by_id, closed_note=note[:200],
    )


def cancel_clocks(lead_id: int, kinds: Iterable[str], *, note: str, by_id: int | None = None) -> int:
    """The SLA no longer applies (the lead left the stage it measures); not counted as met or missed."""
    running = Clock.objects.filter(lead_id=lead_id, kind__in=list(kinds), status=ClockStatus.OPEN)
    unschedule(running)
    return running.update(
        status=ClockStatus.CANCELLED, closed_at=timezone.now(), closed_by_id=by_id, closed_note=note[:200],
    )


# --- what follows a change of a lead (registered in listeners.py) --------------------------------


def owners_changed(batch: list[OwnerChanged]) -> None:
    """Inside the assignment's transaction: running touch clocks follow their policy (`keep` hands
    the clock to the new owner, `restart` cancels it and starts a fresh one for them; returning a
    lead to the pool always keeps it), and an MQL that gets its first owner starts its first-touch
    clock. A batch of routed new MQLs (no clocks running yet) costs one query to find that no clock
    runs, one for the leads and one INSERT for their clocks.
    """
    changes = {c.lead_id: c for c in batch if c.from_id != c.to_id and not c.imported}
    if not changes:
        return
    open_clocks = Clock.objects.filter(lead_id__in=list(changes), kind__in=TOUCH_KINDS, status=ClockStatus.OPEN)
    running: list[Clock] = []
    # Most owner changes (new MQLs routed) find no running clock. Otherwise lock schedule rows
    # before clock rows, the sweep's lock order.
    if open_clocks.exists():
        list(ClockSchedule.objects.select_for_update().filter(clock__in=open_clocks).values_list("pk", flat=True))
        running = list(open_clocks.select_for_update(of=("self",)).select_related("policy").order_by("pk"))
    restart: list[tuple[int, str, int]] = []
    following: list[Clock] = []
    for clock in running:
        change = changes[clock.lead_id]
        if clock.policy.on_reassign == OnReassign.RESTART and change.to_id is not None:
            ClockSchedule.objects.filter(clock_id=clock.pk).delete()
            Clock.objects.filter(pk=clock.pk).update(
                status=ClockStatus.CANCELLED, closed_at=timezone.now(), closed_by_id=change.by_id,
                closed_note="Restarted: the lead was reassigned",
            )
            restart.append((clock.lead_id, clock.kind, change.to_id))
        else:
            clock.owner_id = change.to_id
            following.append(clock)
    if following:  # one UPDATE for a batch (an SLA sweep's or a bulk reassign's), not one per clock
        Clock.objects.bulk_update(following, ["owner"], batch_size=1000)
    with_clock = {clock.lead_id for clock in running}
    first_owner = [pk for pk, c in changes.items() if pk not in with_clock and c.to_id is not None]
    wanted = first_owner + [lead_id for lead_id, _, _ in restart]
    if not wanted:
        return
    leads = {lead.pk: lead for lead in clock_leads(Lead.objects.filter(pk__in=wanted))}
    with reused_lookups():
        for lead_id, kind, owner_id in restart:
            start_clock(leads[lead_id], kind, owner_id=owner_id)
        start_touch_clocks([leads[pk] for pk in first_owner if pk in leads and leads[pk].stage == Stage.MQL],
                           ClockKind.MQL_FIRST_TOUCH)


def stages_changed(batch: list[StageChanged]) -> None:
    """After stage changes commit (routing has run first: settings.QUALIFY_LISTENERS), for each lead
    still in the stage it moved to:

    - out of the SDR stages: its touch clocks no longer apply;
    - out of Nurture into an SDR stage (recycled): start the touch-again clock;
    - into MQL with an owner: start the first-touch clock (a clock routing already started when it
      assigned the lead is simply kept: the insert skips running clocks).

    Imported history starts nothing (it is the past) but still cancels. New MQLs that routing
    already clocked cost one query in all; the rest one transaction and one lock query for the
    batch; policies and calendars are read once; clocks start in one INSERT per kind.
    """
    moves = by_lead(batch)
    # Routing's assignment has usually started the first-touch clocks of new MQLs already
    # (owners_changed): those leads need nothing more, so they are neither locked nor loaded. A
    # lead that has moved on since has its own, later delivery. One query.
    new_mqls = [pk for pk, m in moves.items() if m.to_stage == Stage.MQL and m.from_stage != Stage.NURTURE and not m.imported]
    if new_mqls:
        clocked = Clock.objects.filter(lead_id__in=new_mqls, kind=ClockKind.MQL_FIRST_TOUCH, status=ClockStatus.OPEN)
        for pk in clocked.values_list("lead_id", flat=True):
            del moves[pk]
    if not moves:
        return
    with transaction.atomic(), reused_lookups():
        leads = clock_leads(Lead.objects.select_for_update(of=("self",)).filter(pk__in=list(moves)))
        starts: dict[str, list[Lead]] = {ClockKind.RECYCLED_TOUCH: [], ClockKind.MQL_FIRST_TOUCH: []}
        for lead in leads.order_by("pk"):
            move = moves[lead.pk]
            if lead.stage != move.to_stage:
                continue  # moved on again since: the later change has its own delivery
            if move.to_stage not in SDR_STAGES:
                cancel_clocks(lead.pk, TOUCH_KINDS, note=f"Lead moved to {Stage(move.to_stage).label}", by_id=move.by_id)
                continue
            if move.imported:
                continue
            if move.from_stage == Stage.NURTURE:
                starts[ClockKind.RECYCLED_TOUCH].append(lead)
            elif move.to_stage == Stage.MQL and lead.owner_id:
                starts[ClockKind.MQL_FIRST_TOUCH].append(lead)
        for kind, kind_leads in starts.items():
            start_touch_clocks(kind_leads, kind)


def touched(batch: list[Touched]) -> None:
    """Inside the touch's transaction: a logged touch stops the lead's running touch clocks that
    started before it (a touch dated before a clock started, logged late, does not). Two queries."""
    for touch in batch:
        qs = Clock.objects.filter(lead_id=touch.lead_id, kind__in=TOUCH_KINDS, started_at__lte=touch.at)
        _close(qs, at=touch.at, by_id=touch.by_id, note=touch.note)


def handoffs_changed(batch: list[HandoffChanged]) -> None:
    """Inside the handoff's transaction: a new handoff starts the AE's accept-or-reject clock; a
    decision stops it (met or late); a handoff closed because the lead moved on cancels it; one
    given to another AE moves its clock to them (handoff_reassigned)."""
    for change in batch:
        if change.status == "reassigned":
            handoff_reassigned(change)
            continue
        if change.status == "pending":
            lead = Lead.objects.select_related("account").get(pk=change.lead_id)
            start_clock(lead, ClockKind.HANDOFF_DECISION, owner_id=change.extra.get("to_user_id"),
                        handoff_id=change.handoff_id, at=change.extra.get("at"))
            continue
        qs = Clock.objects.filter(handoff_id=change.handoff_id, kind=ClockKind.HANDOFF_DECISION)
        if change.status == "closed":
            running = qs.filter(status=ClockStatus.OPEN)
            unschedule(running)
            running.update(status=ClockStatus.CANCELLED, closed_at=timezone.now(), closed_by_id=change.by_id,
                           closed_note=change.note[:200])
        else:
            _close(qs, at=change.extra.get("at") or timezone.now(), by_id=change.by_id, note=change.note)


def handoff_reassigned(change: HandoffChanged) -> None:
    """The AE's running clock follows its policy, as a touch clock follows a new owner
    (owners_changed): `keep` gives it to the new AE with its deadline, `restart` cancels it and
    starts a fresh one for them. Schedule rows are locked before the clock, the sweep's order.
    About four queries; a handoff no policy clocked stays without one."""
    running = Clock.objects.filter(handoff_id=change.handoff_id, kind=ClockKind.HANDOFF_DECISION, status=ClockStatus.OPEN)
    list(ClockSchedule.objects.select_for_update().filter(clock__in=running).values_list("pk", flat=True))
    clock = running.select_for_update(of=("self",)).select_related("policy").first()
    if clock is None:
        return
    to_id = change.extra.get("to_user_id")
    if clock.policy.on_reassign != OnReassign.RESTART:
        Clock.objects.filter(pk=clock.pk).update(owner_id=to_id)
        return
    ClockSchedule.objects.filter(clock_id=clock.pk).delete()
    Clock.objects.filter(pk=clock.pk).update(
        status=ClockStatus.CANCELLED, closed_at=timezone.now(), closed_by_id=change.by_id,
        closed_note="Restarted: the handoff was reassigned",
    )
    lead = Lead.objects.select_related("account").get(pk=change.lead_id)
    start_clock(lead, ClockKind.HANDOFF_DECISION, owner_id=to_id, handoff_id=change.handoff_id, at=change.extra.get("at"))
