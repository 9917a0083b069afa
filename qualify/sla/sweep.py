"""The SLA sweep: act on every warning, breach and escalation step that is due, exactly once.

Per batch, in one transaction:
1. claim due schedule rows: `WHERE next_action_at <= now ORDER BY next_action_at LIMIT n FOR
   UPDATE SKIP LOCKED` on ClockSchedule (index sla_schedule_due), joined to their clocks, so the
   cost is the number of due clocks and never the number of running ones; overlapping sweeps take
   disjoint batches;
2. record each due step with `INSERT ... SELECT FROM unnest(...) ON CONFLICT (clock_id, step) DO
   NOTHING RETURNING`: only steps this sweep inserted are acted on (the UNIQUE constraint is the
   last guard, should a clock ever be claimed twice);
3. advance the schedule rows in one `UPDATE ... FROM unnest(...)` (and delete finished ones), and
   stamp breached clocks in another (breached_at is in no index: a HOT update);
4. act: notifications in one INSERT; the batch's reassignments and returns to the pool in one
   routing batch through assignment's one write path (so a rep given many leads hears once).
A worker dying mid-batch rolls all of it back, so the next sweep redoes the batch from scratch.

Claimed rows are read as plain values, not model instances; notification titles leave the lead's
name out (pages and emails add it), so a batch never reads the lead table; every write is one
statement per batch. bench/sla_sweep.py measures it at 1M running clocks.
"""

from __future__ import annotations

import datetime
import logging
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from qualify.formatting import show_datetime
from qualify.leads.changes import SlaEscalated, publish
from qualify.leads.models import Lead

from qualify.notifications import delivery as notify
from qualify.notifications.models import EmailState, Notification, NotificationKind
from qualify.routing.engine import escalate

from .models import (
    OWNERSHIP_ACTIONS,
    Clock,
    ClockKind,
    ClockSchedule,
    ClockStatus,
    SUPERSEDED,
    Escalation,
    StepKind,
)

log = logging.getLogger(__name__)

BATCH = 2000

CLAIMED = {
    "id": "clock_id", "next_step": "next_step", "lead_id": "clock__lead_id", "team_id": "clock__team_id",
    "owner_id": "clock__owner_id", "kind": "clock__kind", "plan": "clock__plan", "due_at": "clock__due_at",
    "owner__first_name": "clock__owner__first_name", "owner__last_name": "clock__owner__last_name",
    "owner__username": "clock__owner__username", "owner__email": "clock__owner__email",
    "calendar__time_zone": "clock__calendar__time_zone",
}

WHAT = {
    ClockKind.MQL_FIRST_TOUCH: "first touch",
    ClockKind.RECYCLED_TOUCH: "touch on the recycled lead",
    ClockKind.HANDOFF_DECISION: "accept or reject of the handoff",
}


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


@dataclass(frozen=True)
class Person:
    """Who a notification goes to: just what the sweep needs, no model instance."""

    id: int
    short: str
    email: str


@dataclass
class DueStep:
    clock: dict
    step: int
    kind: str
    scheduled_at: datetime.datetime
    detail: str = ""
    recipients: list[Person] = field(default_factory=list)


def sweep(*, now: datetime.datetime | None = None, batch: int = BATCH, max_batches: int | None = None) -> SweepResult:
    """Process everything due at `now` (default: the current time), batch by batch."""
    now = now or timezone.now()
    result = SweepResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        batches += 1
        with transaction.atomic():
            rows = (
                ClockSchedule.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_action_at__lte=now, clock__status=ClockStatus.OPEN)
                .order_by("next_action_at")
                .values(*CLAIMED.values())[:batch]
            )
            clocks = [{key: row[column] for key, column in CLAIMED.items()} for row in rows]
            if not clocks:
                break
            _process(clocks, now, result)
        if len(clocks) < batch:
            break
    return result


def _process(clocks: list[dict], now: datetime.datetime, result: SweepResult) -> None:
    result.clocks += len(clocks)
    due: list[DueStep] = []
    advance: dict[int, tuple[int, datetime.datetime | None, datetime.datetime | None]] = {}
    ownership_leads: dict[int, int] = {}  # clock id -> lead id, for clocks with an ownership step due
    for clock in clocks:
        plan = clock["plan"]
        k = clock["next_step"]
        breached = None
        next_at = None
        while k < len(plan):
            kind, at = plan[k][0], datetime.datetime.fromisoformat(plan[k][1])
            if at > now:
                next_at = at
                break
            if kind in OWNERSHIP_ACTIONS:
                ownership_leads[clock["id"]] = clock["lead_id"]
            due.append(DueStep(clock, k, kind, at))
            if kind == StepKind.BREACH:
                breached = clock["due_at"]
            k += 1
        advance[clock["id"]] = (k, next_at, breached)

    if ownership_leads:
        due = _defer_busy_leads(due, advance, ownership_leads, result)

    # A warning whose breach falls in the same sweep (the sweep was down, or a seed catches up) is
    # recorded, so the ladder shows every rung, but tells nobody: "at risk" beside "breached" is noise.
    breaching = {d.clock["id"] for d in due if d.kind == StepKind.BREACH}
    managers = _managers({d.clock["team_id"] for d in due if d.kind != StepKind.WARNING or d.clock["owner_id"] is None})
    for d in due:
        if d.kind == StepKind.WARNING and d.clock["id"] in breaching:
            d.detail = SUPERSEDED
        else:
            _describe(d, managers)

    inserted = _record(due, now)
    _advance(advance)
    _stamp_breaches(advance)
    acted = [d for d in due if (d.clock["id"], d.step) in inserted]
    result.steps += len(acted)
    result.by_kind.update(d.kind for d in acted)
    result.notifications += _notify(acted, now)
    publish("sla_escalated", [
        SlaEscalated(d.clock["id"], d.clock["lead_id"], d.clock["team_id"], d.step, d.kind, d.clock["kind"],
                     d.clock["due_at"], now, d.clock["owner_id"])
        for d in acted
    ])

    # At most one ownership change per clock per sweep: the furthest rung reached wins (a sweep that
    # was down for hours returns the lead to the pool once instead of reassigning it first).
    last_ownership: dict[int, DueStep] = {}
    for d in acted:
        if d.kind in OWNERSHIP_ACTIONS:
            last_ownership[d.clock["id"]] = d
    # Every rung the sweep went past points at the step that acted instead, in one UPDATE: the
    # warnings their breach came with, and the ownership steps before the furthest.
    breach_row = {d.clock["id"]: inserted[d.clock["id"], d.step] for d in acted if d.kind == StepKind.BREACH}
    rewritten = [Escalation(pk=inserted[d.clock["id"], d.step], detail=SUPERSEDED, superseded_by_id=breach_row[d.clock["id"]])
                 for d in acted if d.kind == StepKind.WARNING and d.clock["id"] in breach_row]
    for d in acted:
        if d.kind in OWNERSHIP_ACTIONS and last_ownership[d.clock["id"]] is not d:
            d.detail = SUPERSEDED
            last = last_ownership[d.clock["id"]]
            rewritten.append(Escalation(pk=inserted[d.clock["id"], d.step], detail=SUPERSEDED,
                                        superseded_by_id=inserted[last.clock["id"], last.step]))
    # The rungs that act change their owners together (one batch for the listeners: a person given
    # many leads hears once) and say what happened in the same UPDATE as the skipped ones.
    acting = list(last_ownership.values())
    _change_owners(acting)
    for d in acting:
        rewritten.append(Escalation(pk=inserted[d.clock["id"], d.step], detail=d.detail[:300], superseded_by_id=None))
    if rewritten:
        Escalation.objects.bulk_update(rewritten, ["detail", "superseded_by"], batch_size=1000)


def _defer_busy_leads(due: list[DueStep], advance: dict, ownership_leads: dict[int, int], result: SweepResult) -> list[DueStep]:
    """Ownership steps touch the lead: skip leads someone else holds right now (a rep logging a
    touch) rather than wait on them. Those clocks stop before that step; the next sweep retries."""
    free = set(
        Lead.objects.select_for_update(skip_locked=True).filter(pk__in=set(ownership_leads.values()))
        .values_list("pk", flat=True)
    )
    blocked = {clock_id for clock_id, lead_id in ownership_leads.items() if lead_id not in free}
    if not blocked:
        return due
    kept: list[DueStep] = []
    stop_at: dict[int, DueStep] = {}
    for d in due:
        clock_id = d.clock["id"]
        if clock_id in blocked and (clock_id in stop_at or d.kind in OWNERSHIP_ACTIONS):
            stop_at.setdefault(clock_id, d)
            continue
        kept.append(d)
    for clock_id, first in stop_at.items():
        advance[clock_id] = (first.step, first.scheduled_at, advance[clock_id][2])
    result.deferred += len(stop_at)
    return kept


def _managers(team_ids: set[int]) -> dict[int, list[Person]]:
    return {
        team_id: [Person(u.pk, u.short_name, u.email) for u in users]
        for team_id, users in notify.managers_by_team(team_ids).items()
    } if team_ids else {}


def _owner(clock: dict) -> Person | None:
    if clock["owner_id"] is None:
        return None
    return Person(clock["owner_id"], clock["owner__first_name"] or clock["owner__username"], clock["owner__email"] or "")


def _owner_name(clock: dict) -> str:
    full = f"{clock['owner__first_name'] or ''} {clock['owner__last_name'] or ''}".strip()
    return full or clock["owner__username"] or "none (pool)"


def _describe(d: DueStep, managers: dict[int, list[Person]]) -> None:
    clock = d.clock
    owner = _owner(clock)
    team_managers = managers.get(clock["team_id"], [])
    if d.kind == StepKind.WARNING:
        d.recipients = [owner] if owner else team_managers
        d.detail = f"Warned {_names(d.recipients)}" if d.recipients else "Nobody to warn (no owner)"
    elif d.kind == StepKind.BREACH:
        d.detail = f"Due {_local(clock, clock['due_at'])}; owner {_owner_name(clock)}"
    elif d.kind == StepKind.NOTIFY:
        d.recipients = _unique(([owner] if owner else []) + team_managers)
        d.detail = f"Notified {_names(d.recipients)}" if d.recipients else "Nobody to notify"
    elif d.kind == StepKind.NOTIFY_MANAGERS:
        d.recipients = team_managers
        d.detail = f"Notified {_names(d.recipients)}" if d.recipients else "The team has no manager to notify"


def array_literal(values: list, kind: str = "text") -> str:
    """A Postgres array literal ('{1,NULL,"a \\"b\\""}') for one query parameter.

    Django's psycopg cursors bind parameters on the client, and psycopg escapes a Python list
    element by element with regular expressions: that was 40 % of a 2,000-clock batch. Joining
    per column type, with repeated values (one "now", one title per clock) encoded once, is an
    order of magnitude cheaper; the cast in the SQL (`%s::bigint[]`) parses it back on the server.
    `kind`: "int", "time" or "text".
    """
    if kind == "int" and None not in values:
        return "{" + ",".join(map(str, values)) + "}"
    seen: dict = {None: "NULL"}
    out = []
    for v in values:
        encoded = seen.get(v)
        if encoded is None:
            if kind == "int":
                encoded = str(v)
            elif kind == "time":
                encoded = f'"{v.isoformat()}"'
            else:
                encoded = '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
            seen[v] = encoded
        out.append(encoded)
    return "{" + ",".join(out) + "}"


_KIND = {"bigint": "int", "smallint": "int", "timestamptz": "time", "text": "text", "boolean": "text"}


def _unnest_insert(table: str, columns: dict[str, list], types: list[str], suffix: str = "") -> list[tuple]:
    """INSERT INTO table (columns) SELECT * FROM unnest(one array per column) [suffix]: one
    statement and one parse for any number of rows."""
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in types)}) {suffix}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [array_literal(values, _KIND[t]) for values, t in zip(columns.values(), types)])
        return cursor.fetchall() if "RETURNING" in suffix else []


def _record(due: list[DueStep], now: datetime.datetime) -> dict[tuple[int, int], int]:
    """Insert one Escalation per due step; return the (clock, step) pairs this call inserted, with
    the id of each row."""
    if not due:
        return {}
    rows = _unnest_insert(
        Escalation._meta.db_table,
        {
            "clock_id": [d.clock["id"] for d in due],
            "step": [d.step for d in due],
            "kind": [d.kind for d in due],
            "lead_id": [d.clock["lead_id"] for d in due],
            "team_id": [d.clock["team_id"] for d in due],
            "owner_id": [d.clock["owner_id"] for d in due],
            "scheduled_at": [d.scheduled_at for d in due],
            "at": [now] * len(due),
            "detail": [d.detail[:300] for d in due],
        },
        ["bigint", "smallint", "text", "bigint", "bigint", "bigint", "timestamptz", "timestamptz", "text"],
        suffix="ON CONFLICT (clock_id, step) DO NOTHING RETURNING clock_id, step, id",
    )
    return {(clock_id, step): pk for clock_id, step, pk in rows}


def _advance(advance: dict) -> None:
    """Move each claimed schedule row to its next step, one statement; drop finished ladders, another."""
    going = [i for i in advance if advance[i][1] is not None]
    done = [i for i in advance if advance[i][1] is None]
    table = ClockSchedule._meta.db_table
    with connection.cursor() as cursor:
        if going:
            cursor.execute(
                f"UPDATE {table} AS s SET next_step = v.next_step, next_action_at = v.next_at "
                "FROM unnest(%s::bigint[], %s::smallint[], %s::timestamptz[]) AS v(id, next_step, next_at) "
                "WHERE s.clock_id = v.id",
                [array_literal(going, "int"), array_literal([advance[i][0] for i in going], "int"),
                 array_literal([advance[i][1] for i in going], "time")],
            )
        if done:
            cursor.execute(f"DELETE FROM {table} WHERE clock_id = ANY(%s::bigint[])", [array_literal(done, "int")])


def _stamp_breaches(advance: dict) -> None:
    """Record the breach time on clocks that breached in this batch, one statement."""
    breached = [i for i in advance if advance[i][2] is not None]
    if not breached:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Clock._meta.db_table} AS c SET breached_at = v.at "
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) WHERE c.id = v.id AND c.breached_at IS NULL",
            [array_literal(breached, "int"), array_literal([advance[i][2] for i in breached], "time")],
        )


def _notify(acted: list[DueStep], now: datetime.datetime) -> int:
    """All notifications of the batch in one INSERT, as each recipient chose (one more query for
    their preferences). By default warnings are in-app only and the rest also e-mail. A person
    due more than DIGEST_OVER notices of one kind in the batch (an SDR back from a weekend, a
    manager watching a pool nobody claimed) gets one digest instead, linking to the list of them."""
    detail_url = reverse("leads:detail", args=[0])[:-2]  # "/leads/"; once per batch, not per row
    prefs = notify.choices({p.id for d in acted for p in d.recipients})
    notices: dict[tuple[int, str, bool], list[_Notice]] = {}
    for d in acted:
        clock = d.clock
        what = WHAT.get(clock["kind"], "action")
        # No lead name here (Notification.headline adds it when shown or emailed): reading 2,000
        # random rows of the lead table per batch would cost more than the rest of the batch.
        if d.kind == StepKind.WARNING:
            kind, title = NotificationKind.SLA_WARNING, f"SLA at risk: {what} due {_local(clock, clock['due_at'])}"
        elif d.kind == StepKind.NOTIFY:
            kind, title = NotificationKind.SLA_BREACH, f"SLA breached: {what} was due {_local(clock, clock['due_at'])}"
        else:
            kind, title = NotificationKind.SLA_ESCALATION, f"Escalation: {what} still missing (owner {_owner_name(clock)})"
        for person in d.recipients:
            in_app, email = notify.wanted(prefs, person.id, kind)
            email = email and bool(person.email)
            if in_app or email:
                notice = _Notice(person.id, kind, title, f"{detail_url}{clock['lead_id']}/", clock, d.step, what, in_app, email)
                notices.setdefault((person.id, kind, person.id == clock["owner_id"]), []).append(notice)
    columns: dict[str, list] = {k: [] for k in (
        "user_id", "kind", "title", "body", "url", "lead_id", "clock_id", "key", "in_app", "read_at", "created_at",
        "email_state")}

    def add(n: _Notice, title: str, body: str, url: str, lead_id: int | None, clock_id: int | None, key: str,
            in_app: bool, email: bool) -> None:
        for column, value in (("user_id", n.user_id), ("kind", n.kind.value), ("title", title[:200]), ("body", body),
                              ("url", url), ("lead_id", lead_id), ("clock_id", clock_id), ("key", key),
                              ("in_app", "t" if in_app else "f"),
                              ("read_at", None if in_app else now),  # e-mail only: hidden, never in the badge
                              ("created_at", now),
                              ("email_state", EmailState.PENDING.value if email else EmailState.NONE.value)):
            columns[column].append(value)

    for (_user, kind, owner), group in notices.items():
        if len(group) <= notify.DIGEST_OVER:
            for n in group:
                add(n, n.title, f"{n.title}.", n.url, n.clock["lead_id"], n.clock["id"], f"sla:{n.clock['id']}:{n.step}",
                    n.in_app, n.email)
            continue
        title, body, url = _digest(kind, owner, group)
        first = min(group, key=lambda n: (n.clock["id"], n.step))
        # The person chose their channels per kind, so every notice of the group agrees on them.
        add(first, title, body, url, None, None, f"sla-digest:{first.clock['id']}:{first.step}", first.in_app, first.email)
    if not columns["user_id"]:
        return 0
    _unnest_insert(
        Notification._meta.db_table, columns,
        ["bigint", "text", "text", "text", "text", "bigint", "bigint", "text", "boolean", "timestamptz", "timestamptz",
         "text"],
        suffix="ON CONFLICT DO NOTHING",
    )
    return len(columns["user_id"])


@dataclass(frozen=True)
class _Notice:
    """One notification the batch owes one person, before digests are made."""

    user_id: int
    kind: NotificationKind
    title: str
    url: str
    clock: dict
    step: int
    what: str
    in_app: bool
    email: bool


DIGEST_TITLES = {
    NotificationKind.SLA_WARNING: "{n} SLAs at risk",
    NotificationKind.SLA_BREACH: "{n} SLAs breached",
    NotificationKind.SLA_ESCALATION: "{n} escalations",
}


def _digest(kind: NotificationKind, owner: bool, group: list[_Notice]) -> tuple[str, str, str]:
    """Title, body and link of one notice for many clocks: what ran late and when it was due;
    the link lists the leads (the owner's queue filtered by SLA state, an AE's handoff inbox, a
    manager's breaches page)."""
    whats = sorted({n.what for n in group})
    title = DIGEST_TITLES[kind].format(n=len(group)) + f": {', '.join(whats)}"
    due = sorted(group, key=lambda n: n.clock["due_at"])
    first, last = _local(due[0].clock, due[0].clock["due_at"]), _local(due[-1].clock, due[-1].clock["due_at"])
    # An AE's handoff clocks are on leads that are not theirs yet: the inbox lists them.
    inbox = owner and all(n.clock["kind"] == ClockKind.HANDOFF_DECISION for n in group)
    whose = "handoffs waiting for your decision" if inbox else "your leads" if owner else "your team's leads"
    body = f"On {whose}, due from {first} to {last}." if first != last else f"On {whose}, due {first}."
    state = "at_risk" if kind == NotificationKind.SLA_WARNING else "breached"
    if inbox:
        url = reverse("handoff:inbox")
    elif owner:
        url = f"{reverse('leads:queue')}?sla={state}"
    elif kind == NotificationKind.SLA_WARNING:
        url = f"{reverse('leads:queue')}?scope=team&sla={state}"
    else:
        url = reverse("sla:breaches")
    return title, body, url


def _change_owners(steps: list[DueStep]) -> None:
    """Reassign through routing, or return to the pool, every lead of `steps` in one batch
    (routing.engine.escalate, through assignment's one write path); each step's detail says what
    happened. Touch clocks of one lead never run together (Nurture cancels the first-touch clock
    before a recycled one starts), so each lead has one ownership step here."""
    reassign: dict[int, str] = {}
    to_pool: dict[int, str] = {}
    acting = []
    for d in steps:
        if d.clock["kind"] == ClockKind.HANDOFF_DECISION:
            # Admin validation refuses such rungs; one created alongside its policy could slip through.
            d.detail = "Skipped: a handoff waits for its AE's decision, it is not reassigned by the sweep."
            continue
        why = f"SLA escalation: {WHAT.get(d.clock['kind'], 'action')} overdue since {_local(d.clock, d.clock['due_at'])}"
        (reassign if d.kind == StepKind.REASSIGN else to_pool)[d.clock["lead_id"]] = why
        acting.append(d)
    if acting:
        outcome = escalate(reassign, to_pool)
        for d in acting:
            d.detail = outcome[d.clock["lead_id"]]


def _unique(people: list[Person]) -> list[Person]:
    seen: set[int] = set()
    out = []
    for p in people:
        if p.id not in seen:
            seen.add(p.id)
            out.append(p)
    return out


def _names(people: list[Person]) -> str:
    return ", ".join(p.short for p in people)


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(clock: dict, at: datetime.datetime) -> str:
    """A time as the calendar's people read it, in the one date format: '14 Jan 2026, 10:00 EST'."""
    return show_datetime(at, _zone(clock["calendar__time_zone"]), zone=True)
