"""The SLA sweep: act on every warning, breach and escalation step that is due, exactly once.

Per batch, in one transaction:
1. claim due clocks: `WHERE status='open' AND next_action_at <= now ORDER BY next_action_at
   LIMIT n FOR UPDATE SKIP LOCKED`, served by the partial index sla_clock_due, so the cost is the
   number of due clocks and never the number of running ones; overlapping sweeps take disjoint
   batches;
2. record each due step with `INSERT ... ON CONFLICT (clock_id, step) DO NOTHING RETURNING`:
   only steps this sweep inserted are acted on (the UNIQUE constraint is the last guard);
3. advance the clocks in one `UPDATE ... FROM unnest(...)`;
4. act: notifications in one INSERT; reassign / return to pool through routing's one write path.
A worker dying mid-batch rolls all of it back, so the next sweep redoes the batch from scratch.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from qualify.leads.models import Lead

from . import notify
from .models import Clock, ClockKind, ClockStatus, Escalation, NotificationKind, OWNERSHIP_ACTIONS, StepKind

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass
class SweepResult:
    clocks: int = 0
    steps: int = 0
    notifications: int = 0
    deferred: int = 0
    by_kind: Counter = field(default_factory=Counter)

    def __str__(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.by_kind.items())) or "nothing due"
        return f"{self.clocks} clocks, {self.steps} steps ({kinds}), {self.notifications} notifications"


@dataclass
class DueStep:
    clock: Clock
    step: int
    kind: str
    scheduled_at: datetime.datetime
    detail: str = ""
    recipients: list = field(default_factory=list)


def sweep(*, now: datetime.datetime | None = None, batch: int = BATCH, max_batches: int | None = None) -> SweepResult:
    """Process everything due at `now` (default: the current time), batch by batch."""
    now = now or timezone.now()
    result = SweepResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with transaction.atomic():
            clocks = list(
                Clock.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("lead", "owner", "calendar", "policy")
                .filter(status=ClockStatus.OPEN, next_action_at__lte=now)
                .order_by("next_action_at")[:batch]
            )
            if not clocks:
                break
            _process(clocks, now, result)
        if len(clocks) < batch:
            break
    return result


def _process(clocks: list[Clock], now: datetime.datetime, result: SweepResult) -> None:
    result.clocks += len(clocks)
    due: list[DueStep] = []
    advance: dict[int, tuple[int, datetime.datetime | None, datetime.datetime | None]] = {}
    ownership_clocks = []
    for clock in clocks:
        steps = clock.steps()
        k = clock.next_step
        breached = None
        while k < len(steps) and steps[k][1] <= now:
            kind, at = steps[k]
            if kind in OWNERSHIP_ACTIONS and clock.pk not in advance:
                ownership_clocks.append(clock)
            due.append(DueStep(clock, k, kind, at))
            if kind == StepKind.BREACH:
                breached = clock.due_at
            k += 1
        advance[clock.pk] = (k, steps[k][1] if k < len(steps) else None, breached)

    # Ownership steps touch the lead: skip leads someone else holds right now (a rep logging a touch)
    # rather than wait on them; those clocks stop before that step and the next sweep retries.
    if ownership_clocks:
        lead_ids = {c.lead_id for c in ownership_clocks}
        free = set(Lead.objects.select_for_update(skip_locked=True).filter(pk__in=lead_ids).values_list("pk", flat=True))
        blocked = {c.pk for c in ownership_clocks if c.lead_id not in free}
        if blocked:
            kept: list[DueStep] = []
            stop_at: dict[int, DueStep] = {}
            for d in due:
                if d.clock.pk in blocked and (d.clock.pk in stop_at or d.kind in OWNERSHIP_ACTIONS):
                    stop_at.setdefault(d.clock.pk, d)
                    continue
                kept.append(d)
            for clock_pk, first in stop_at.items():
                _, _, breached = advance[clock_pk]
                advance[clock_pk] = (first.step, first.scheduled_at, breached)
            result.deferred += len(stop_at)
            due = kept

    managers = notify.managers_by_team({d.clock.team_id for d in due if d.kind != StepKind.WARNING})
    for d in due:
        _describe(d, managers)

    inserted = _record(due, now)
    _advance(advance)
    acted = [d for d in due if (d.clock.pk, d.step) in inserted]
    result.steps += len(acted)
    result.by_kind.update(d.kind for d in acted)

    notes = []
    for d in acted:
        notes.extend(_notifications(d))
    result.notifications += len(notify.save_all(notes))

    # At most one ownership change per clock per sweep: the furthest rung reached wins (a sweep that
    # was down for hours returns the lead to the pool once instead of reassigning it first).
    last_ownership: dict[int, DueStep] = {}
    for d in acted:
        if d.kind in OWNERSHIP_ACTIONS:
            last_ownership[d.clock.pk] = d
    for d in acted:
        if d.kind in OWNERSHIP_ACTIONS:
            if last_ownership[d.clock.pk] is d:
                d.detail = _change_owner(d)
            else:
                d.detail = "Superseded by a later step in the same sweep."
            Escalation.objects.filter(clock_id=d.clock.pk, step=d.step).update(detail=d.detail[:300])


def _describe(d: DueStep, managers: dict) -> None:
    clock = d.clock
    owner = clock.owner
    if d.kind == StepKind.WARNING:
        d.recipients = [owner] if owner else managers.get(clock.team_id, [])
        d.detail = f"Warned {_names(d.recipients)}" if d.recipients else "Nobody to warn (no owner)"
    elif d.kind == StepKind.BREACH:
        d.detail = f"Due {_local(clock, clock.due_at)}; owner {owner or 'none (pool)'}"
    elif d.kind == StepKind.NOTIFY:
        d.recipients = _unique(([owner] if owner else []) + managers.get(clock.team_id, []))
        d.detail = f"Notified {_names(d.recipients)}" if d.recipients else "Nobody to notify"
    elif d.kind == StepKind.NOTIFY_MANAGERS:
        d.recipients = managers.get(clock.team_id, [])
        d.detail = f"Notified {_names(d.recipients)}" if d.recipients else "The team has no manager to notify"


def _record(due: list[DueStep], now: datetime.datetime) -> set[tuple[int, int]]:
    """Insert one Escalation per due step; return the (clock, step) pairs this call inserted."""
    if not due:
        return set()
    columns = {
        "clock_id": [d.clock.pk for d in due],
        "step": [d.step for d in due],
        "kind": [d.kind for d in due],
        "lead_id": [d.clock.lead_id for d in due],
        "team_id": [d.clock.team_id for d in due],
        "owner_id": [d.clock.owner_id for d in due],
        "scheduled_at": [d.scheduled_at for d in due],
        "at": [now] * len(due),
        "detail": [d.detail[:300] for d in due],
    }
    types = ["bigint", "smallint", "text", "bigint", "bigint", "bigint", "timestamptz", "timestamptz", "text"]
    table = Escalation._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in types)}) "
        "ON CONFLICT (clock_id, step) DO NOTHING RETURNING clock_id, step"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(columns.values()))
        return {(row[0], row[1]) for row in cursor.fetchall()}


def _advance(advance: dict) -> None:
    """Move each claimed clock to its next step in one statement."""
    ids = list(advance)
    table = Clock._meta.db_table
    sql = (
        f"UPDATE {table} AS c SET next_step = v.next_step, next_action_at = v.next_at, "
        "breached_at = COALESCE(c.breached_at, v.breached_at) "
        "FROM unnest(%s::bigint[], %s::smallint[], %s::timestamptz[], %s::timestamptz[]) AS v(id, next_step, next_at, breached_at) "
        "WHERE c.id = v.id AND c.status = 'open'"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [ids, [advance[i][0] for i in ids], [advance[i][1] for i in ids], [advance[i][2] for i in ids]],
        )


WHAT = {
    ClockKind.MQL_FIRST_TOUCH: "first touch",
    ClockKind.RECYCLED_TOUCH: "touch on the recycled lead",
    ClockKind.HANDOFF_DECISION: "accept or reject of the handoff",
}


def _notifications(d: DueStep) -> list:
    if not d.recipients:
        return []
    clock, lead = d.clock, d.clock.lead
    what = WHAT.get(clock.kind, "action")
    url = reverse("leads:detail", args=[clock.lead_id])
    if d.kind == StepKind.WARNING:
        kind, title = NotificationKind.SLA_WARNING, f"SLA at risk: {lead.full_name} — {what} due {_local(clock, clock.due_at)}"
    elif d.kind == StepKind.NOTIFY:
        kind, title = NotificationKind.SLA_BREACH, f"SLA breached: {lead.full_name} — {what} was due {_local(clock, clock.due_at)}"
    else:
        kind, title = NotificationKind.SLA_ESCALATION, f"Escalation: {lead.full_name} — {what} still missing (owner {clock.owner or 'none'})"
    body = f"{title}.\nPolicy: {clock.policy.name}. Started {_local(clock, clock.started_at)}."
    return [
        notify.make(user, kind=kind, title=title, body=body, url=url, lead_id=clock.lead_id, clock_id=clock.pk,
                    email=d.kind != StepKind.WARNING)
        for user in d.recipients
    ]


def _change_owner(d: DueStep) -> str:
    """Reassign through routing, or return to the pool, via the one assignment write path."""
    from qualify.errors import DomainError
    from qualify.routing.engine import escalate_reassign, return_to_pool

    lead = Lead.objects.select_related("account", "owner").get(pk=d.clock.lead_id)
    why = f"SLA escalation: {WHAT.get(d.clock.kind, 'action')} overdue since {_local(d.clock, d.clock.due_at)}"
    try:
        if d.kind == StepKind.REASSIGN:
            return escalate_reassign(lead, why=why)
        return return_to_pool(lead, why=why)
    except DomainError as e:  # a rule pointing at someone who left the team, say: record, move on
        log.warning("SLA escalation on lead %s failed: %s", lead.pk, e.message)
        return f"Failed: {e.message}"


def _unique(users: list) -> list:
    seen, out = set(), []
    for u in users:
        if u.pk not in seen:
            seen.add(u.pk)
            out.append(u)
    return out


def _names(users: list) -> str:
    return ", ".join(u.short_name for u in users)


def _local(clock: Clock, at: datetime.datetime) -> str:
    """A time as the calendar's people read it, e.g. 'Tue 14 Jan 10:00 EST'."""
    return at.astimezone(ZoneInfo(clock.calendar.time_zone)).strftime("%a %d %b %H:%M %Z")
